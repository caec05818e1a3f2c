/**
 * Tab completion over what the catalog knows. Pure: given the line up to
 * the cursor it answers in readline's `[candidates, replaced]` form, or
 * names an interface whose methods must be fetched first.
 *
 *   ca<Tab>            calc.              (interfaces end in a dot)
 *   calc.a<Tab>        calc.add(          (a method opens its parentheses)
 *   .dr<Tab>           .drop
 *   .describe ca<Tab>  .describe calc.
 *   .events off ca     .events off calc
 */
import { commandNames, commandTable } from './syntax.js';

/** What the completer may ask about names. */
export interface Names {
  interfaces: readonly string[];
  /** undefined when the interface's methods are not known yet. */
  methodsOf(iface: string): readonly string[] | undefined;
}

/** Candidates and the text they replace (the end of the line). */
export type Completion = [candidates: string[], replaced: string];

/** The completion, or the interface to inspect before asking again. */
export type CompletionResult = { completion: Completion } | { fetch: string };

const startsWith = (prefix: string) => (name: string): boolean => name.startsWith(prefix);

/** `iface.met` → methods; `ifa` → interfaces with their dots. */
const completeTarget = (word: string, names: Names, opening: string): CompletionResult => {
  const dot = word.lastIndexOf('.');
  if (dot === -1) {
    const ifaces = names.interfaces.filter(startsWith(word));
    return { completion: [ifaces.map((iface) => `${iface}.`), word] };
  }
  const iface = word.slice(0, dot);
  const prefix = word.slice(dot + 1);
  const methods = names.methodsOf(iface);
  if (methods === undefined) return { fetch: iface };
  const matches = methods.filter(startsWith(prefix));
  // Readline inserts a lone candidate whole: then the parenthesis saves a keystroke.
  const candidates = matches.length === 1 && opening !== '' ? [`${matches[0]}${opening}`] : matches;
  return { completion: [candidates, prefix] };
};

const NONE: CompletionResult = { completion: [[], ''] };

/**
 * Completes `line`, the text before the cursor.
 * @param names - interfaces and methods known so far
 */
export const complete = (line: string, names: Names): CompletionResult => {
  const text = line.trimStart();
  if (text.startsWith('.')) {
    const words = text.split(/\s+/);
    const [command = '', ...args] = words;
    if (words.length === 1) return { completion: [commandNames.filter(startsWith(command)), command] };
    const last = args[args.length - 1] ?? '';
    switch (command) {
      case '.describe':
      case '.d':
        return args.length === 1 ? completeTarget(last, names, '') : NONE;
      case '.emit':
        return args.length === 1 ? completeTarget(last, names, '(') : NONE;
      case '.events':
        if (args.length === 1) return { completion: [['on', 'off'].filter(startsWith(last)), last] };
        return args.length === 2 ? { completion: [names.interfaces.filter(startsWith(last)), last] } : NONE;
      case '.verbose':
        return args.length === 1 ? { completion: [['off', 'on', 'all'].filter(startsWith(last)), last] } : NONE;
      default:
        return NONE;
    }
  }
  // Inside the parentheses the user types data, not names.
  if (/[(\s]/.test(text)) return NONE;
  const result = completeTarget(text, names, '(');
  if ('fetch' in result || text.includes('.')) return result;
  // An empty line or a first word: commands are candidates too.
  const [candidates] = result.completion;
  const commands = text === '' ? commandTable.map((spec) => spec.name) : [];
  return { completion: [[...candidates, ...commands], text] };
};
