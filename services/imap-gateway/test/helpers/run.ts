// Real clients run the same way in every suite (@correo/testkit).
export { runClient as run, type RunResult } from '@correo/testkit';
