/** What the appliance decided for one part, zone frame or cleaning check. */
export const Verdict = {
  pass: 'pass',
  reject: 'reject',
  inconclusive: 'inconclusive',
  notInspected: 'not_inspected',
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export const VERDICTS: readonly Verdict[] = Object.values(Verdict);

/** The PLC's `Result` tag values (DESIGN.md, PLC contract). */
export const PlcResultCode = {
  pass: 1,
  reject: 2,
  inconclusive: 3,
  notInspected: 4,
} as const;
export type PlcResultCode = (typeof PlcResultCode)[keyof typeof PlcResultCode];

export function plcResultFor(verdict: Verdict): PlcResultCode {
  switch (verdict) {
    case Verdict.pass:
      return PlcResultCode.pass;
    case Verdict.reject:
      return PlcResultCode.reject;
    case Verdict.inconclusive:
      return PlcResultCode.inconclusive;
    case Verdict.notInspected:
      return PlcResultCode.notInspected;
  }
}
