import type { ProfileInput } from './config.js';

// Built-in profiles for the real agent CLIs. Every pattern is tested against ONE captured line at a time
// (trailing whitespace trimmed). `ready` must match only an EMPTY input line: a typed but unsubmitted draft
// has to read as "cannot tell", or the next prompt would be glued onto it. The literal strings come from
// screens recorded from the shipped binaries (test/fixtures/screens/) and from their bundles.

/** A built-in profile: the same shape as a profile in the config file. */
export type AgentProfileInput = ProfileInput;

/** Claude Code's permission, trust, login and update dialogs, and its offline exit. */
const CLAUDE_BLOCKED = [
  'Do you want to proceed\\?',
  'Do you want to make this edit to',
  'Do you want to create ',
  'Yes, I trust this folder',
  'Do you trust the files in this folder\\?',
  'Do you want to use this API key\\?',
  'Select login method',
  'Unable to connect to Anthropic services',
  'Browser didn.t open\\? Use the url below',
  'Press Enter to continue',
  'Update available! Run:',
  '^\\s*Pane is dead',
].join('|');

const CODEX_BLOCKED = [
  'Sign in with ChatGPT',
  'Sign in with Device Code',
  'Use an OpenAI API key',
  'Press enter to continue',
  'Would you like to run the following command\\?',
  'Would you like to make the following edits\\?',
  'Do you trust the (contents|files) of this (directory|folder)',
  'Allow Codex to work in this folder',
  'Update now \\(runs `',
  'Skip until next version',
  '^\\s*Pane is dead',
].join('|');

const GEMINI_BLOCKED = [
  'Do you trust the files in this folder\\?',
  'How would you like to authenticate',
  'Enter Gemini API Key',
  'Paste your API key here',
  'Waiting for auth',
  'Allow execution of',
  'Apply this change\\?',
  'Do you want to proceed\\?',
  'Waiting for user confirmation',
  '^\\s*Pane is dead',
].join('|');

const OPENCODE_BLOCKED = ['Permission required', 'Allow once', '^\\s*Pane is dead'].join('|');

const AIDER_BLOCKED = [
  '\\(Y\\)es/\\(N\\)o',
  'Open documentation url for more info\\?',
  'Add .+ to the chat\\?',
  'Traceback \\(most recent call last\\)',
  '^\\s*Pane is dead',
].join('|');

/** The built-in profiles for Claude Code, Codex, Gemini CLI, opencode and Aider. */
export function agentProfiles(): Record<string, AgentProfileInput> {
  return {
    claude: {
      command: ['claude'],
      // The input line between two rules: `❯` alone (a draft is `❯ text`). Older builds drew `│ > │` in a box.
      ready: '^(❯|│ >\\s*│)$',
      busy: '(esc|ctrl\\+c) to interrupt',
      question: '^QUESTION:',
      blocked: CLAUDE_BLOCKED,
      interrupt: ['Escape'],
      submit: ['Enter'],
      // Input line, rule, then up to three footer lines (shortcuts, auto-update notice, effort).
      promptLines: 6,
    },
    codex: {
      command: ['codex'],
      // The composer shows a dim placeholder when empty; plain text capture cannot see dim, so the known
      // placeholders are listed and anything else after `›` is a draft.
      ready:
        '^›( (Ask Codex to do anything|Ask a follow-up question|Explain this codebase|Summarize recent commits|Implement \\{feature\\}|Find and fix a bug in @filename|Write tests for @filename|Improve documentation in @filename|Run /review on my current changes|Use /skills to list available skills))?$',
      busy: 'esc to interrupt',
      question: '^QUESTION:',
      blocked: CODEX_BLOCKED,
      interrupt: ['Escape'],
      submit: ['Enter'],
      promptLines: 4,
    },
    gemini: {
      command: ['gemini'],
      ready: '^\\s*>\\s+Type your message or @path/to/file$',
      busy: '\\(esc to cancel, \\d',
      question: '^QUESTION:',
      blocked: GEMINI_BLOCKED,
      interrupt: ['Escape'],
      submit: ['Enter'],
      // Input line, then the workspace/sandbox/model footer (two lines).
      promptLines: 4,
    },
    opencode: {
      command: ['opencode'],
      ready: '^\\s*┃\\s+Ask anything…',
      busy: 'esc (to )?interrupt',
      question: '^QUESTION:',
      blocked: OPENCODE_BLOCKED,
      interrupt: ['Escape'],
      submit: ['Enter'],
      // Input line, blank border line, agent/model line, border, key hints, tip, path/version footer.
      promptLines: 8,
      quietMs: 2500,
    },
    aider: {
      command: ['aider'],
      // Aider's prompt is `> `, prefixed by a non-default edit format (`ask> `, `architect> `) and/or `multi`
      // in multi-line mode; a draft is `> text`. The files in the chat are listed on the line above it.
      ready: '^(\\w+)?( ?multi)?>$',
      busy: 'Waiting for \\S|Updating repo map|[Rr]etrying in [\\d.]+ seconds',
      question: '^QUESTION:',
      blocked: AIDER_BLOCKED,
      interrupt: ['C-c'],
      submit: ['Enter'],
      promptLines: 2,
    },
  };
}

/**
 * The shell profile: PS1 and PS2 are set through the environment to markers no output or continuation can
 * mimic, so `ready` is exact (`> `, `-->` or `</div>` as a last line never read as a prompt).
 */
export function shellProfile(shell = '/bin/sh'): AgentProfileInput {
  return {
    command: [shell, '-i'],
    env: { PS1: 'mcc$ ', PS2: 'mcc> ' },
    ready: shellReady,
    question: '^QUESTION:',
    blocked: '^\\s*Pane is dead',
    interrupt: ['C-c'],
    submit: ['Enter'],
    promptLines: 1,
  };
}

/** The shell's ready rule: the PS1 marker alone on the last line (a typed command follows it, so no match). */
export const shellReady = '^mcc\\$$';
