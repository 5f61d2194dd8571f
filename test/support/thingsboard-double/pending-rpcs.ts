interface PendingRpc {
  resolve(data: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Server-side RPCs awaiting the gateway's reply, by device ("" for the gateway itself) and request id. */
export class PendingRpcs {
  private readonly pending = new Map<string, PendingRpc>();

  /** Publishes the request and resolves with the reply's data; rejects when `publish` fails or no reply comes in time. */
  await(device: string, id: number, timeoutMs: number, publish: () => Promise<void>): Promise<unknown> {
    const key = `${device}\u0000${id}`;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new Error('RPC timed out'));
      }, timeoutMs);
      this.pending.set(key, { resolve, reject, timer });
      publish().catch((err: Error) => {
        clearTimeout(timer);
        this.pending.delete(key);
        reject(err);
      });
    });
  }

  settle(device: string, id: number, data: unknown): void {
    const key = `${device}\u0000${id}`;
    const p = this.pending.get(key);
    if (!p) return; // a late or unknown reply: ThingsBoard ignores it too
    clearTimeout(p.timer);
    this.pending.delete(key);
    p.resolve(data);
  }

  rejectAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
