import type { AddressSpace, Namespace, UAEventType, UAObject, UAStateMachineEx } from 'node-opcua';
import { DataType, nodesets, promoteToStateMachine, Variant } from 'node-opcua';
import type { ResultRecord } from './result-state.js';
import type { VisionStatus } from './vision-state.js';

export const MV_NAMESPACE = 'http://opcfoundation.org/UA/MachineVision';
export const LINESIDE_NAMESPACE = 'urn:lineside:scada';

/** The nodesets the server loads: the base and OPC 40100-1 (it requires nothing else, not even DI). */
export const SCADA_NODESETS: readonly string[] = [nodesets.standard, nodesets.machineVision];

export interface StationInfo {
  readonly id: string;
  readonly name?: string;
}

/** One station's VisionSystem object and its two state machines. */
export interface VisionSystemNodes {
  readonly object: UAObject;
  readonly stateMachine: UAStateMachineEx;
  readonly automaticMode: UAStateMachineEx;
  /** Folder of the station's alarm conditions. */
  readonly alarms: UAObject;
}

/**
 * The Machine Vision part of the address space. Each station is an instance of the companion
 * specification's VisionSystemType under Objects, browse name `<stationId>` in the lineside
 * namespace, node IDs `ns=<lineside>;s=<stationId>`, with its mandatory VisionStateMachine and
 * the optional AutomaticModeStateMachine. The methods the type declares (Halt, Reset,
 * StartSingleJob …) are not implemented: the PLC, not SCADA, runs the line.
 */
export class MachineVisionSpace {
  readonly addressSpace: AddressSpace;
  readonly namespace: Namespace;
  readonly mvIndex: number;
  readonly resultReadyType: UAEventType;
  /** The appliance-wide alarms' folder (storage, PLC heartbeat, user lock-outs). */
  readonly applianceAlarms: UAObject;
  readonly #systems = new Map<string, VisionSystemNodes>();

  constructor(addressSpace: AddressSpace) {
    this.addressSpace = addressSpace;
    this.mvIndex = addressSpace.getNamespaceIndex(MV_NAMESPACE);
    if (this.mvIndex < 0) throw new Error(`the Machine Vision nodeset (${MV_NAMESPACE}) is not loaded`);
    this.namespace = addressSpace.registerNamespace(LINESIDE_NAMESPACE);
    this.resultReadyType = this.#resultReadyType();
    const server = addressSpace.rootFolder.objects.server;
    const appliance = this.namespace.addObject({
      browseName: 'Appliance',
      nodeId: 's=appliance',
      organizedBy: addressSpace.rootFolder.objects,
      eventNotifier: 1,
      eventSourceOf: server,
      description: 'lineside itself: alarms that concern every station',
    });
    this.applianceAlarms = this.#alarmFolder(appliance, 'appliance');
  }

  addVisionSystem(station: StationInfo): VisionSystemNodes {
    const type = this.addressSpace.findObjectType('VisionSystemType', this.mvIndex);
    if (!type) throw new Error('VisionSystemType not found in the Machine Vision nodeset');
    const object = type.instantiate({
      browseName: { name: station.id, namespaceIndex: this.namespace.index },
      displayName: station.name ?? station.id,
      namespace: this.namespace,
      nodeId: `ns=${this.namespace.index};s=${station.id}`,
      organizedBy: this.addressSpace.rootFolder.objects,
      eventSourceOf: this.addressSpace.rootFolder.objects.server,
      eventNotifier: 1,
      optionals: ['VisionStateMachine.AutomaticModeStateMachine'],
    });
    const sm = object.getComponentByName('VisionStateMachine', this.mvIndex) as UAObject | null;
    const auto = sm?.getComponentByName('AutomaticModeStateMachine', this.mvIndex) as UAObject | null;
    if (!sm || !auto) throw new Error(`station "${station.id}": VisionSystemType instance has no VisionStateMachine/AutomaticModeStateMachine`);
    const nodes: VisionSystemNodes = {
      object,
      stateMachine: promoteToStateMachine(sm),
      automaticMode: promoteToStateMachine(auto),
      alarms: this.#alarmFolder(object, station.id),
    };
    nodes.stateMachine.setState('Preoperational', automaticTransition);
    this.#systems.set(station.id, nodes);
    return nodes;
  }

  system(stationId: string): VisionSystemNodes | undefined {
    return this.#systems.get(stationId);
  }

  /** Sets both state machines; unchanged states are not written again (no spurious data changes). */
  setStatus(stationId: string, status: VisionStatus): void {
    const s = this.#systems.get(stationId);
    if (!s) return;
    if (currentName(s.stateMachine) !== status.state) s.stateMachine.setState(status.state, automaticTransition);
    // Outside Operational the automatic mode is back at its initial state.
    const mode = status.mode ?? 'Initialized';
    if (currentName(s.automaticMode) !== mode) s.automaticMode.setState(mode, automaticTransition);
  }

  /** Raises one ResultReady event (the lineside subtype, carrying the verdict) from the station's VisionSystem. */
  raiseResultReady(stationId: string, r: ResultRecord, simulated: boolean): void {
    const s = this.#systems.get(stationId);
    if (!s) return;
    const eo = (type: string, value: Record<string, unknown>) => new Variant({ dataType: DataType.ExtensionObject, value: this.#extensionObject(type, value) });
    s.object.raiseEvent(this.resultReadyType, {
      sourceName: { dataType: DataType.String, value: stationId },
      message: { dataType: DataType.LocalizedText, value: { text: r.message } },
      severity: { dataType: DataType.UInt16, value: r.severity },
      resultId: eo('ResultIdDataType', { id: r.resultId }),
      ...(r.partId === null ? {} : { partId: eo('PartIdDataType', { id: r.partId }) }),
      internalRecipeId: eo('RecipeIdInternalDataType', { id: r.internalRecipeId }),
      ...(r.externalRecipe === null
        ? {}
        : { externalRecipeId: eo('RecipeIdExternalDataType', { id: r.externalRecipe.id, ...(r.externalRecipe.name ? { description: { text: r.externalRecipe.name } } : {}) }) }),
      internalConfigurationId: eo('ConfigurationIdDataType', { id: r.configuration.id, version: r.configuration.version }),
      jobId: eo('JobIdDataType', { id: r.jobId }),
      creationTime: { dataType: DataType.DateTime, value: r.creationTime },
      processingTimes: eo('ProcessingTimesDataType', {
        startTime: r.processing.start,
        endTime: r.processing.end,
        ...(r.processing.acquisitionMs === undefined ? {} : { acquisitionDuration: r.processing.acquisitionMs }),
        ...(r.processing.processingMs === undefined ? {} : { processingDuration: r.processing.processingMs }),
      }),
      isPartial: { dataType: DataType.Boolean, value: false },
      isSimulated: { dataType: DataType.Boolean, value: simulated },
      resultState: { dataType: DataType.Int32, value: r.resultState },
      verdict: { dataType: DataType.String, value: r.verdict },
      rejectCode: { dataType: DataType.Int16, value: r.rejectCode },
      score: { dataType: DataType.Double, value: r.score },
      batchId: { dataType: DataType.String, value: r.batchId },
    });
  }

  #extensionObject(typeName: string, value: Record<string, unknown>) {
    const dataType = this.addressSpace.findDataType(typeName, this.mvIndex);
    if (!dataType) throw new Error(`${typeName} not found in the Machine Vision nodeset`);
    return this.addressSpace.constructExtensionObject(dataType, value);
  }

  /**
   * ResultReadyEventType, subtyped in the lineside namespace to carry what the standard record has
   * no field for: the verdict, the PLC's RejectCode, the deciding score and the batch.
   */
  #resultReadyType(): UAEventType {
    const base = this.addressSpace.findEventType('ResultReadyEventType', this.mvIndex);
    if (!base) throw new Error('ResultReadyEventType not found in the Machine Vision nodeset');
    const type = this.namespace.addEventType({ browseName: 'LinesideResultReadyEventType', subtypeOf: base, isAbstract: false });
    const prop = (browseName: string, dataType: DataType, description: string) =>
      this.namespace.addVariable({ propertyOf: type, browseName, dataType, modellingRule: 'Mandatory', description });
    prop('Verdict', DataType.String, 'pass, reject, inconclusive or not_inspected (README: ResultState mapping)');
    prop('RejectCode', DataType.Int16, 'the RejectCode written to the PLC (0 for a pass)');
    prop('Score', DataType.Double, 'the deciding score');
    prop('BatchId', DataType.String, 'the batch the part belongs to, as the PLC reported it');
    return type;
  }

  #alarmFolder(parent: UAObject, id: string): UAObject {
    return this.namespace.addObject({ browseName: 'Alarms', nodeId: `s=${id}.Alarms`, typeDefinition: 'FolderType', componentOf: parent });
  }
}

/**
 * The nodeset models most changes twice: `XToY`, caused by a method call, and `XToYAuto`, caused
 * by the system itself. lineside's changes all come from the station's own health.
 */
const automaticTransition = <T extends { browseName: { name: string | null } }>(transitions: T[]): T | null =>
  transitions.find((t) => t.browseName.name?.endsWith('Auto')) ?? transitions[0] ?? null;

function currentName(sm: UAStateMachineEx): string | null {
  const text = sm.currentState?.readValue().value.value as { text?: string } | null | undefined;
  return text?.text ?? null;
}
