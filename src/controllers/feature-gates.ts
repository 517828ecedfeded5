/**
 * The controller feature gates `serve --feature-gates` accepts (kcm's flag: "Name=true,Other=false"),
 * with their 1.32 defaults. Controllers read them from ControllerContext.settings by name.
 */
export const FEATURE_GATE_DEFAULTS: Readonly<Record<string, boolean>> = {
  /** Alpha in 1.32: a StatefulSet's rollingUpdate.maxUnavailable lets several pods update at once. */
  MaxUnavailableStatefulSet: false,
};

/** Parses the flag's value; throws kcm's wording for an unknown gate or a value that is not a boolean. */
export function parseFeatureGates(text: string): Record<string, boolean> {
  const gates = { ...FEATURE_GATE_DEFAULTS };
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const [name, value = ''] = entry.split('=', 2).map((s) => s.trim());
    if (!(name in FEATURE_GATE_DEFAULTS)) throw new Error(`unrecognized feature gate: ${name}`);
    if (!/^(true|false)$/i.test(value)) throw new Error(`invalid value of ${name}=${value}, err: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
    gates[name] = value.toLowerCase() === 'true';
  }
  return gates;
}
