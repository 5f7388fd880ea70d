export { SieveRuntimeError, SieveSyntaxError } from './errors.js';
export type { Position } from './errors.js';
export type { MessageView, RunLimits, RunResult, SieveAction } from './interpreter.js';
export { automatedMessage, DEFAULT_MAX_REDIRECTS, runScript, vacationSkip } from './interpreter.js';
export type { Comparator, MatchType } from './match.js';
export { matchCaptures, matches } from './match.js';
export type { Argument, Command, ParseLimits, Script, Test } from './parser.js';
export { DEFAULT_LIMITS, parseScript } from './parser.js';
export { SUPPORTED_EXTENSIONS } from './validate.js';
export type {
  Forms,
  ReadForms,
  Rule,
  RuleAction,
  RuleCondition,
  RuleInput,
  VacationForm,
  VacationFormInput,
} from './forms.js';
export {
  FormError,
  formsSection,
  newScriptName,
  parseRules,
  parseVacationForm,
  readForms,
  ruleSchema,
  rulesSchema,
  vacationFormJsonSchema,
  vacationFormSchema,
  writeForms,
} from './forms.js';
