import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SealKeys } from './at-rest.ts';
import type { SealLayout, SealRequest, SealResponse } from './seal-worker-format.ts';

/**
 * Worker threads that seal (SM4 + HMAC-SM3) and blind-index values for a bulk writer. An import reads,
 * parses and validates on one thread; the cryptography is a third of that work and needs no database, so
 * it runs beside it. Each worker holds a copy of the keys it was started with (the ones new values get);
 * `close` ends the workers and with them those copies.
 */
export class SealPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<
    number,
    { resolve: (r: SealResponse) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private nextWorker = 0;
  private failed: Error | null = null;

  constructor(keys: SealKeys, size = SealPool.defaultSize()) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./seal-worker-start.mjs', import.meta.url), {
        workerData: {
          version: keys.data.version,
          encKey: new Uint8Array(keys.data.encKey),
          macKey: new Uint8Array(keys.data.macKey),
          index: new Uint8Array(keys.index),
        },
      });
      worker.on('message', (response: SealResponse) => {
        const waiter = this.waiting.get(response.id);
        if (!waiter) return;
        this.waiting.delete(response.id);
        if (response.error) waiter.reject(new Error(`seal worker: ${response.error}`));
        else waiter.resolve(response);
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`seal worker exited with code ${code}`));
      });
      return worker;
    });
  }

  /** One worker per core beyond the one the caller reads on (at least one). */
  static defaultSize(): number {
    return Math.max(1, Math.min(4, availableParallelism() - 1));
  }

  /**
   * The COPY text of a batch of rows (encoded as seal-worker.ts describes), its encrypted columns sealed and
   * indexed. Batches are spread over the workers in turn; each answer comes back to its own promise.
   */
  copyText(layout: SealLayout, rows: Uint8Array): Promise<Uint8Array> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: (r) => resolve(r.bytes!), reject });
      worker.postMessage({ id, layout, rows } satisfies SealRequest, [rows.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.failed ??= new Error('the seal pool is closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.fail(this.failed);
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
