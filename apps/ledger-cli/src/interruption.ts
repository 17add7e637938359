import { exitCodeForSignal, InterruptedError } from './cli-errors';

const HANDLED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Turns the first SIGINT or SIGTERM into an abort, so that the command stops between two events and closes the store
 * cleanly. A second signal means the user will not wait: the process exits at once.
 */
export class Interruption {
  private readonly controller = new AbortController();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.controller.signal.aborted) {
      process.exit(exitCodeForSignal(signal));
    }
    process.stderr.write(`\n${signal} received: stopping and closing the event store (send it again to quit at once)\n`);
    this.controller.abort(new InterruptedError(signal));
  };

  constructor() {
    for (const signal of HANDLED_SIGNALS) process.on(signal, this.onSignal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The signal that stopped the command, if one did. */
  get interruptedBy(): NodeJS.Signals | undefined {
    const reason: unknown = this.controller.signal.reason;
    return reason instanceof InterruptedError ? reason.signal : undefined;
  }

  dispose(): void {
    for (const signal of HANDLED_SIGNALS) process.removeListener(signal, this.onSignal);
  }
}
