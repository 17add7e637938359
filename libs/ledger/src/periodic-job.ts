import type { JobLogger } from './two-factor-revocation.job';

/**
 * A pass run every `intervalMs` until stop(), one at a time: a pass asked for while one runs joins it, and stop()
 * waits for the one in hand. A failed pass is logged and the next one runs on time.
 */
export abstract class PeriodicJob<Pass> {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<Pass> | undefined;
  protected stopping = false;

  protected constructor(
    protected readonly logger: JobLogger,
    private readonly name: string,
  ) {}

  protected abstract runPass(): Promise<Pass>;

  /** False for an error that is no failure (another process did the work); logged otherwise. */
  protected worthLogging(_error: unknown): boolean {
    return true;
  }

  start(intervalMs: number): void {
    const loop = (): void => {
      if (this.stopping) return;
      this.pass()
        .catch((error: unknown) => {
          if (this.stopping || !this.worthLogging(error)) return;
          this.logger.error(`${this.name}: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => {
          if (!this.stopping) this.timer = setTimeout(loop, intervalMs);
        });
    };
    loop();
  }

  /** One pass now (joins a pass already running). */
  pass(): Promise<Pass> {
    if (!this.current) this.current = this.runPass().finally(() => (this.current = undefined));
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.onStop();
    if (this.timer) clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }

  /** Called as stop() begins, before it waits for the pass in hand. */
  protected onStop(): void {}
}
