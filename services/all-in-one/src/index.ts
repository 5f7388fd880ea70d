export { sections as serviceSections } from './app.js';
