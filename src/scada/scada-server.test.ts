import type { ClientSession, OPCUAClient, Variant } from 'node-opcua';
import { AttributeIds, ClientMonitoredItem, constructEventFilter, DataType, makeBrowsePath, MethodIds, ObjectIds, StatusCodes, TimestampsToReturn, UserTokenType } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthState } from '../domain/health.js';
import type { StoredInspection } from '../domain/inspection.js';
import { waitFor } from '../plc/opcua.test-support.js';
import { inspection } from '../records/records.test-support.js';
import { LINESIDE_NAMESPACE, MV_NAMESPACE } from './mv-address-space.js';
import { ResultState } from './result-state.js';
import { OPERATOR, openSession, startTestScada, trustedClient, VIEWER } from './scada.test-support.js';

type Scada = Awaited<ReturnType<typeof startTestScada>>;

describe('OPC UA server for SCADA/MES (Machine Vision)', () => {
  let scada: Scada;
  let client: OPCUAClient;
  let session: ClientSession;
  let mv: number;
  let ls: number;

  beforeAll(async () => {
    scada = await startTestScada({ securityModes: ['SignAndEncrypt'] });
    client = await trustedClient(scada.server, scada.config.pkiDir!);
    session = await openSession(client, scada.server.endpoint, { type: UserTokenType.UserName, ...OPERATOR });
    const namespaces = await session.readNamespaceArray();
    mv = namespaces.indexOf(MV_NAMESPACE);
    ls = namespaces.indexOf(LINESIDE_NAMESPACE);
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    await client?.disconnect();
    await scada?.stop();
  });

  const stateOf = async (stationId: string, machine: 'VisionStateMachine' | 'AutomaticModeStateMachine'): Promise<string> => {
    const path = machine === 'VisionStateMachine' ? `/${ls}:${stationId}/${mv}:VisionStateMachine.CurrentState` : `/${ls}:${stationId}/${mv}:VisionStateMachine/${mv}:AutomaticModeStateMachine.CurrentState`;
    const [result] = await session.translateBrowsePath([makeBrowsePath('ObjectsFolder', path)]);
    const target = result?.targets?.[0]?.targetId;
    if (!target) throw new Error(`no ${path}: ${result?.statusCode.toString()}`);
    const dv = await session.read({ nodeId: target, attributeId: AttributeIds.Value });
    return (dv.value.value as { text: string }).text;
  };

  /** Collects events from the Server object with the given select clauses. */
  const subscribeEvents = async (fields: string[]): Promise<Variant[][]> => {
    const events: Variant[][] = [];
    const sub = await session.createSubscription2({ requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 200, publishingEnabled: true });
    const item = ClientMonitoredItem.create(
      sub,
      { nodeId: ObjectIds.Server, attributeId: AttributeIds.EventNotifier },
      { queueSize: 1000, discardOldest: true, samplingInterval: 0, filter: constructEventFilter(fields) },
      TimestampsToReturn.Neither,
    );
    item.on('changed', (v: unknown) => events.push(v as Variant[]));
    await new Promise<void>((resolve) => item.once('initialized', () => resolve()));
    return events;
  };

  it('has one VisionSystem per station, browsable under Objects, whose state follows the station health', async () => {
    const refs = await session.browse(`ns=0;i=${ObjectIds.ObjectsFolder}`);
    const visionSystems = refs.references!.filter((r) => r.browseName.namespaceIndex === ls).map((r) => r.browseName.name);
    expect(visionSystems).toEqual(expect.arrayContaining(['blister', 'gowning']));
    const blister = refs.references!.find((r) => r.browseName.name === 'blister')!;
    const [typeName] = await session.read([{ nodeId: blister.typeDefinition, attributeId: AttributeIds.BrowseName }]);
    expect(typeName!.value.value.toString()).toBe(`${mv}:VisionSystemType`);

    expect(await stateOf('blister', 'VisionStateMachine')).toBe('Operational');
    // A PLC-triggered station with no parts yet waits (Ready); a zone camera runs continuously.
    expect(await stateOf('blister', 'AutomaticModeStateMachine')).toBe('Ready');
    expect(await stateOf('gowning', 'AutomaticModeStateMachine')).toBe('ContinuousExecution');

    scada.setHealth('blister', HealthState.down, 'camera lost');
    await expectEventually(() => stateOf('blister', 'VisionStateMachine'), 'Error');
    scada.setHealth('blister', HealthState.starting, 'waiting for the first frame');
    await expectEventually(() => stateOf('blister', 'VisionStateMachine'), 'Preoperational');
    scada.setHealth('blister', HealthState.ok);
    await expectEventually(() => stateOf('blister', 'VisionStateMachine'), 'Operational');
    expect(await stateOf('gowning', 'VisionStateMachine')).toBe('Operational');
  });

  it('raises a ResultReady event per inspection with the part, recipe, times and the verdict mapped to ResultState', async () => {
    const events = await subscribeEvents(['EventType', 'SourceName', `${mv}:ResultId`, `${mv}:PartId`, `${mv}:ResultState`, `${mv}:InternalRecipeId`, `${mv}:ProcessingTimes`, `${mv}:CreationTime`, `${ls}:Verdict`, `${ls}:RejectCode`]);
    const stored = (id: number, over: Partial<StoredInspection>): StoredInspection => ({ ...inspection(over), id, evidencePath: null, evidenceSha256: null, plcWrittenAt: null });
    scada.bus.emit('inspection', stored(101, { partId: 'P-101', verdict: 'reject', rejectCode: 10, timings: { acquireMs: 2, inferMs: 12, totalMs: 20 } }));
    scada.bus.emit('inspection', stored(102, { partId: 'P-102', verdict: 'not_inspected', reason: 'LINESIDE_ERR_FRAME_STALE' }));
    const results = (): Variant[][] => events.filter((fields) => fields[2]!.value !== null);
    await waitFor('two ResultReady events', () => results().length >= 2, 10_000);
    const [reject, notInspected] = results().map((fields) => ({
      source: fields[1]!.value,
      resultId: fields[2]!.value?.id,
      partId: fields[3]!.value?.id,
      resultState: fields[4]!.value,
      recipe: fields[5]!.value?.id,
      times: fields[6]!.value,
      verdict: fields[8]!.value,
      rejectCode: fields[9]!.value,
    }));
    expect(reject).toMatchObject({ source: 'blister', resultId: '101', partId: 'P-101', resultState: ResultState.completed, recipe: '1', verdict: 'reject', rejectCode: 10 });
    expect(reject!.times.endTime.getTime() - reject!.times.startTime.getTime()).toBe(20);
    expect(reject!.times.acquisitionDuration).toBe(2);
    expect(notInspected).toMatchObject({ partId: 'P-102', resultState: ResultState.failed, verdict: 'not_inspected' });
    // The events are of the Machine Vision ResultReadyEventType's lineside subtype.
    const [typeName] = await session.read([{ nodeId: results()[0]![0]!.value, attributeId: AttributeIds.BrowseName }]);
    expect(typeName!.value.value.toString()).toBe(`${ls}:LinesideResultReadyEventType`);
  });

  it('shows an appliance alarm as a condition that an operator acknowledges through the alarm lifecycle, audited with their name', async () => {
    const events = await subscribeEvents(['EventId', 'SourceName', 'ConditionName', 'ActiveState.Id', 'AckedState.Id', 'Message', 'ConditionId']);
    scada.alarms.raise('blister', 'cameraLost', 'critical', 'camera lost: no frames');
    await waitFor('condition raised', () => events.some((e) => e[2]!.value?.text === 'cameraLost' || e[2]!.value === 'cameraLost'), 10_000);
    const raised = events.filter((e) => (e[2]!.value?.text ?? e[2]!.value) === 'cameraLost').at(-1)!;
    expect(raised[1]!.value).toBe('blister');
    expect(raised[3]!.value).toBe(true);
    expect(raised[4]!.value).toBe(false);
    const conditionId = raised[6]!.value;
    const alarm = scada.alarms.active().find((a) => a.category === 'cameraLost')!;

    // A viewer may browse but not acknowledge; nothing changes in the appliance.
    const viewerClient = await trustedClient(scada.server, scada.config.pkiDir!);
    const viewer = await openSession(viewerClient, scada.server.endpoint, { type: UserTokenType.UserName, ...VIEWER });
    const ack = (s: ClientSession, eventId: Buffer, comment: string) =>
      s.call({
        objectId: conditionId,
        methodId: `ns=0;i=${MethodIds.AcknowledgeableConditionType_Acknowledge}`,
        inputArguments: [
          { dataType: DataType.ByteString, value: eventId },
          { dataType: DataType.LocalizedText, value: { text: comment } },
        ],
      });
    const refused = await ack(viewer, raised[0]!.value, 'seen');
    await viewer.close();
    await viewerClient.disconnect();
    expect(refused.statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    expect(scada.alarms.active().find((a) => a.id === alarm.id)?.acknowledged).toBe(false);

    const result = await ack(session, raised[0]!.value, 'cable reseated');
    expect(result.statusCode).toEqual(StatusCodes.Good);
    const after = scada.alarms.active().find((a) => a.id === alarm.id)!;
    expect(after).toMatchObject({ acknowledged: true, ackedBy: OPERATOR.userName, ackComment: 'cable reseated', condition: 'active' });
    const audited = scada.env.records.audit.recent(20).find((e) => e.action === 'alarmAcknowledged')!;
    expect(audited).toMatchObject({ actor: { user: OPERATOR.userName, role: 'operator' }, objectId: String(alarm.id), reason: 'cable reseated' });
    expect(audited.client).toMatch(/^opc\.tcp session/);
    await waitFor('acknowledged state', () => events.some((e) => e[4]!.value === true), 10_000);

    // Acknowledging again is refused by OPC UA, as the page refuses it.
    const again = await ack(session, events.at(-1)![0]!.value, 'twice');
    expect(again.statusCode).toEqual(StatusCodes.BadConditionBranchAlreadyAcked);

    // The appliance clears it: the condition goes inactive.
    scada.alarms.clear('blister', 'cameraLost');
    await waitFor('condition cleared', () => events.at(-1)![3]!.value === false, 10_000);
  }, 30_000);
});

async function expectEventually(read: () => Promise<string>, expected: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    last = await read();
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(last).toBe(expected);
}
