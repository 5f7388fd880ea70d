import { startAllInOneProcess } from '@correo/testkit';
const t0 = Date.now();
const app = await startAllInOneProcess();
console.log('ready in', Date.now() - t0, app.ports, app.databaseUrl);
console.log(await app.stop(), Date.now() - t0);
