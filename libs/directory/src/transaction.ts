// The directory's writes use the store's one transaction helper.
export { inTransaction } from '@correo/store';
