import { writeFileSync } from 'node:fs';
import { startAllInOneProcess } from '@correo/testkit';
const stack = await startAllInOneProcess({ env: { LOG_LEVEL: 'info' } });
writeFileSync('/tmp/hw/stack.json', JSON.stringify({ ...stack, process: undefined }));
console.log('ready', stack.webmailUrl);
process.on('SIGTERM', async () => { await stack.stop(); process.exit(0); });
setInterval(() => {}, 1 << 30);
