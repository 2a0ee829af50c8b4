import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The appliance's Prometheus metrics, on their own registry (tests create several apps). */
export class Metrics {
  readonly registry = new Registry();
  readonly inspections = new Counter({
    name: 'lineside_inspections_total',
    help: 'Inspections by station and verdict',
    labelNames: ['station', 'verdict'] as const,
    registers: [this.registry],
  });
  readonly inspectionDuration = new Histogram({
    name: 'lineside_inspection_duration_seconds',
    help: 'Time from frame acquired (or trigger) to verdict recorded',
    labelNames: ['station'] as const,
    buckets: [0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly stageDuration = new Histogram({
    name: 'lineside_stage_duration_seconds',
    help: 'Time per pipeline stage',
    labelNames: ['station', 'stage'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly drops = new Counter({
    name: 'lineside_dropped_total',
    help: 'Triggers or frames dropped, by station and reason; a dropped triggered part is answered not-inspected',
    labelNames: ['station', 'reason'] as const,
    registers: [this.registry],
  });
  readonly plcWriteDuration = new Histogram({
    name: 'lineside_plc_write_duration_seconds',
    help: 'Time to write one result block and ResultCount to the PLC',
    labelNames: ['station'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly plcWriteErrors = new Counter({
    name: 'lineside_plc_write_errors_total',
    help: 'Results that could not be written to the PLC',
    labelNames: ['station'] as const,
    registers: [this.registry],
  });
  readonly missedTriggers = new Counter({
    name: 'lineside_missed_triggers_total',
    help: 'TriggerCount increments skipped between two notifications (parts the PLC rejects by timeout)',
    labelNames: ['station'] as const,
    registers: [this.registry],
  });
  readonly componentUp = new Gauge({
    name: 'lineside_component_healthy',
    help: '1 when the component is healthy',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });
  readonly cameraFps = new Gauge({
    name: 'lineside_camera_fps',
    help: 'Frames per second arriving from the camera, over the last few seconds',
    labelNames: ['station'] as const,
    registers: [this.registry],
  });
  readonly cameraFrames = new Gauge({
    name: 'lineside_camera_frames',
    help: 'Frames since start: received from the camera, dropped (never inspected), and connection restarts',
    labelNames: ['station', 'count'] as const,
    registers: [this.registry],
  });
  readonly imageWarning = new Gauge({
    name: 'lineside_image_warning',
    help: '1 while the image health check reports this problem (blurred, overexposed, underexposed, frozen, moved)',
    labelNames: ['station', 'check'] as const,
    registers: [this.registry],
  });
  readonly imageSharpness = new Gauge({
    name: 'lineside_image_sharpness',
    help: 'Variance of the Laplacian of the latest analysed frame (higher is sharper)',
    labelNames: ['station'] as const,
    registers: [this.registry],
  });
  readonly imageLuma = new Gauge({
    name: 'lineside_image_mean_luma',
    help: 'Mean brightness (0-255) of the latest analysed frame',
    labelNames: ['station'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'lineside_process_' });
  }
}
