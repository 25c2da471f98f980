// Standalone entry for the demo agent (`node dist/demo-agent/main.js [flags]`); the CLI wires `mcc demo-agent`.
import { runDemoAgent } from './demo-agent.js';

process.exitCode = await runDemoAgent(process.argv.slice(2));
