import type { Driver } from '../../drivers/types';
import type { Part } from '../part';
import type { DevicesContext } from './devices-part';
import type { IngestPipeline } from '../pipeline/ingest-pipeline';

/** One transport driver (serial, BLE, sim): its frames go to the pipeline, its link carries sends to its devices. */
export class DriverPart implements Part<DevicesContext & { pipeline: IngestPipeline }, Record<string, never>> {
  readonly name: string;

  constructor(private readonly driver: Driver) {
    this.name = `driver:${driver.name}`;
  }

  async start({ links, pipeline }: DevicesContext & { pipeline: IngestPipeline }): Promise<Record<string, never>> {
    links.add(this.driver); // listed in status even if its start fails, like a device that is unplugged
    await this.driver.start(pipeline);
    return {};
  }

  async stop(): Promise<void> {
    await this.driver.stop();
  }
}
