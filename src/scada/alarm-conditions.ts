import type { ISessionContext, UAAlarmConditionEx, UAObject, UAMethod, VariantLike } from 'node-opcua';
import { coerceLocalizedText, DataType, NodeId, StatusCodes, type CallMethodResultOptions, type StatusCode } from 'node-opcua';
import type { AlarmCategory, AlarmEvent, AlarmSeverity } from '../domain/alarm.js';
import { ErrorCode, isLinesideError, reasonOf } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Actor, Role } from '../records/audit.js';
import type { ActiveAlarm, AlarmCenter } from '../stations/alarm-center.js';
import { APPLIANCE } from '../stations/alarm-center.js';
import { PERMISSIONS } from '../web/auth.js';
import type { MachineVisionSpace } from './mv-address-space.js';

/** OPC UA Severity (1–1000) of an alarm's severity. */
export const CONDITION_SEVERITY: Readonly<Record<AlarmSeverity, number>> = { info: 200, warning: 500, critical: 900 };

export interface AlarmConditionDeps {
  readonly space: MachineVisionSpace;
  /** Acknowledging goes through the appliance's alarm lifecycle (records, audit trail, bus). */
  readonly alarms: Pick<AlarmCenter, 'acknowledge' | 'active'>;
  /** The role of a signed-in OPC UA user (from the user directory), or undefined. */
  readonly roleOf: (username: string) => Role | undefined;
  readonly logger: Logger;
}

interface Tracked {
  readonly condition: UAAlarmConditionEx;
  /** The alarm record the condition currently shows (a new raise is a new record). */
  alarmId: number | undefined;
}

/**
 * The appliance's alarms as OPC UA AlarmConditionType instances, one per source and category (the
 * AlarmCenter keeps one active alarm per source and category too), created when first raised,
 * node ID `ns=<lineside>;s=<source>.Alarms.<category>`. Raise, acknowledge and clear follow the
 * appliance's bus, whoever caused them. The Acknowledge method does not set the condition's
 * state itself: it calls AlarmCenter.acknowledge with the session's user, which records and audits
 * it, and the state follows from the bus event like an acknowledgement made on the page.
 */
export class AlarmConditions {
  readonly #d: AlarmConditionDeps;
  readonly #bySource = new Map<string, Tracked>();
  readonly #byNode = new Map<string, Tracked>();

  constructor(deps: AlarmConditionDeps) {
    this.#d = deps;
    this.#bindAcknowledge();
  }

  /** Shows the alarms that are already open (raised before the server started). */
  sync(): void {
    for (const a of this.#d.alarms.active({ includeShelved: true })) this.#show(a);
  }

  /** One transition from the bus. Shelving is page-only: the condition keeps showing the alarm. */
  onAlarm(e: AlarmEvent): void {
    switch (e.state) {
      case 'raised': {
        const t = this.#ensure(e.stationId, e.category);
        t.alarmId = e.alarmId;
        this.#update(t, { active: true, acked: false, message: e.message, severity: CONDITION_SEVERITY[e.severity], at: e.at });
        return;
      }
      case 'acknowledged': {
        const t = this.#bySource.get(key(e.stationId, e.category));
        if (!t || t.alarmId !== e.alarmId) return;
        const branch = t.condition.currentBranch();
        branch.setComment(coerceLocalizedText(e.comment ?? '')!);
        branch.setClientUserId(e.by ?? '');
        this.#update(t, { active: branch.getActiveState(), acked: true, message: e.message, at: e.at });
        return;
      }
      case 'cleared': {
        const t = this.#bySource.get(key(e.stationId, e.category));
        if (!t) return;
        this.#update(t, { active: false, acked: t.condition.currentBranch().getAckedState(), message: `${e.category} cleared`, at: e.at });
        return;
      }
      case 'shelved':
      case 'unshelved':
        return;
    }
  }

  #show(a: ActiveAlarm): void {
    const t = this.#ensure(a.stationId, a.category);
    t.alarmId = a.id;
    this.#update(t, { active: a.condition === 'active', acked: a.acknowledged, message: a.message, severity: CONDITION_SEVERITY[a.severity], at: a.raisedAt });
  }

  #update(t: Tracked, s: { active: boolean; acked: boolean; message: string; severity?: number; at: number }): void {
    const branch = t.condition.currentBranch();
    branch.setActiveState(s.active);
    branch.setAckedState(s.acked);
    // Retained while it needs attention: present, or gone but not yet acknowledged (ConditionRefresh lists these).
    branch.setRetain(s.active || !s.acked);
    branch.setMessage(s.message);
    if (s.severity !== undefined) branch.setSeverity(s.severity);
    branch.setTime(new Date(s.at));
    t.condition.raiseNewBranchState(branch);
  }

  #ensure(source: string, category: AlarmCategory): Tracked {
    const k = key(source, category);
    const known = this.#bySource.get(k);
    if (known) return known;
    const { space } = this.#d;
    const station = source === APPLIANCE ? undefined : space.system(source);
    const folder: UAObject = station?.alarms ?? space.applianceAlarms;
    const sourceNode: UAObject = station?.object ?? (folder.parent as UAObject | null) ?? folder;
    const sourceName = source === APPLIANCE ? 'appliance' : source;
    const id = `${sourceName}.Alarms.${category}`;
    const condition = space.namespace.instantiateAlarmCondition('AlarmConditionType', {
      // Sources other than stations (user lock-outs) share the appliance's folder: one name each.
      browseName: station || source === APPLIANCE ? category : `${category} ${source}`,
      nodeId: `s=${id}`,
      componentOf: folder,
      conditionSource: sourceNode,
      conditionName: category,
      inputNode: NodeId.nullNodeId,
    });
    condition.setEnabledState(true);
    // node-opcua names the source by its qualified browse name; clients expect the station id.
    condition.sourceName.setValueFromSource({ dataType: DataType.String, value: sourceName });
    const t: Tracked = { condition, alarmId: undefined };
    this.#bySource.set(k, t);
    this.#byNode.set(condition.nodeId.toString(), t);
    condition.acknowledge.bindMethod(this.#acknowledgeMethod);
    return t;
  }

  /**
   * Clients may call Acknowledge on the condition's own method node or on the type's
   * (AcknowledgeableConditionType.Acknowledge, with the condition as object): both come here.
   */
  #bindAcknowledge(): void {
    const type = this.#d.space.addressSpace.findEventType('AcknowledgeableConditionType') as unknown as { acknowledge?: UAMethod } | null;
    type?.acknowledge?.bindMethod(this.#acknowledgeMethod);
  }

  readonly #acknowledgeMethod = async (inputArguments: VariantLike[], context: ISessionContext): Promise<CallMethodResultOptions> => ({
    statusCode: this.#acknowledge(inputArguments, context),
  });

  #acknowledge(args: VariantLike[], context: ISessionContext): StatusCode {
    const t = context.object ? this.#byNode.get(context.object.nodeId.toString()) : undefined;
    if (!t) return StatusCodes.BadNodeIdInvalid;
    const eventId = args[0]?.value as Buffer | null | undefined;
    const comment = coerceLocalizedText(args[1]?.value as string | null)?.text ?? '';
    const branch = t.condition.currentBranch();
    if (!eventId || !Buffer.isBuffer(eventId) || !eventId.equals(branch.getEventId())) return StatusCodes.BadEventIdUnknown;
    if (branch.getAckedState()) return StatusCodes.BadConditionBranchAlreadyAcked;
    if (t.alarmId === undefined) return StatusCodes.BadInvalidState;
    const user = context.getUserName();
    const role = user ? this.#d.roleOf(user) : undefined;
    const log = this.#d.logger;
    const allowed: readonly string[] = PERMISSIONS.acknowledgeAlarm;
    if (!user || role === undefined || !allowed.includes(role)) {
      log.warn({ alarmId: t.alarmId, user: user || '(anonymous)', role }, 'OPC UA acknowledge refused: the user may not acknowledge alarms');
      return StatusCodes.BadUserAccessDenied;
    }
    const actor: Actor = { user, role };
    try {
      this.#d.alarms.acknowledge(t.alarmId, actor, comment, `opc.tcp session ${context.session?.getSessionId().toString() ?? ''}`.trim());
      return StatusCodes.Good;
    } catch (e) {
      log.info({ alarmId: t.alarmId, user, err: reasonOf(e) }, 'OPC UA acknowledge refused');
      if (isLinesideError(e, ErrorCode.badRequest)) return StatusCodes.BadInvalidArgument;
      if (isLinesideError(e, ErrorCode.notFound)) return StatusCodes.BadNodeIdUnknown;
      return StatusCodes.BadInternalError;
    }
  }
}

function key(source: string, category: AlarmCategory): string {
  return `${source}\u0000${category}`;
}
