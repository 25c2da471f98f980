// Standalone entry for the demo agent (`node dist/demo-agent/main.js [flags]`); the CLI wires `mcc demo-agent`.
import { asksForHelp, helpOf, HELP_FLAG } from '../cli/args.js';
import { DEMO_AGENT_SPEC } from './args.js';
import { runDemoAgent } from './demo-agent.js';

const argv = process.argv.slice(2);
if (asksForHelp(argv)) process.stdout.write(`${helpOf(DEMO_AGENT_SPEC, HELP_FLAG)}\n`);
else process.exitCode = await runDemoAgent(argv);
