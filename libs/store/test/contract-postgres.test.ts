import { freshDatabase } from '@correo/testkit';
import { storeContract } from './contract.js';

storeContract('postgres', () => freshDatabase());
