export { ScriptHost, type ScriptDefinition, type ScriptRun, type ScriptStatus, type ScriptHostOptions } from './script-host';
export { IsolatedScript, DEFAULT_LIMITS, type ScriptLimits } from './isolated-script';
export { ScriptError, type ScriptErrorKind } from './script-error';
export { ScriptBreaker } from './script-breaker';
export { SCRIPT_KINDS, KIND_SHAPES, checkDecoded, checkScore, checkCondition, type ScriptKind, type DecodedMessage, type Checked } from './script-kind';
export { configuredScripts, loadConfiguredScripts, scriptLimits, campaignScriptId, type ConfiguredScript } from './configured-scripts';
export { checkTransform, checkGenerated, checkSwitch, FIRST_GENERATOR_INPUT, type RuleMessage } from './rule-node-result';
export { SCRIPT_LANGUAGES, languageOfFile, type ScriptLanguage } from './script-language';
export { readConverterExport, type ConverterExport } from './converter-export';
