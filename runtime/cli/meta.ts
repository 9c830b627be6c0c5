/** `robustmq meta`: the cluster scheduler process (defined with `robustmq broker` in ./broker.ts, which shares its flags). */
export { metaCommand } from './broker.js';
