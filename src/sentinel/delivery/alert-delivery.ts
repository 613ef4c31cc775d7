/**
 * The alert outbox (issue 4): an alert is rendered once per configured channel and written to
 * the store as DeliveryRows, in the same breath as it is raised; a worker sends what is due and
 * marks each row delivered, or failed with an exponential back-off. Rows live in the store, so
 * a restart, or another node on the same PostgreSQL database, carries on where this one stopped.
 *
 * Delivery is at least once: a crash between send and mark, or two nodes picking the same due
 * row, sends it twice. Receivers drop duplicates by the X-Labkluis-Delivery header (webhook) or
 * the alert id in the structured data (syslog).
 *
 * Logs name the row, the alert, the channel, the attempt and a machine reason; never the
 * payload, a URL or a peer's error text.
 */
import { hostname as osHostname } from 'node:os';
import { isLabkluisError, randomId, type Clock, type Random } from '../../kernel/index.js';
import type { DeliveryRow, SentinelStore } from '../../store/index.js';
import { parseAlertDeliveryConfig, type AlertDeliveryConfig, type AlertDeliveryConfigInput } from './alert-delivery-config.js';
import { checkAlert, type DeliverableAlert } from './deliverable-alert.js';
import { DeliveryFailure, failureFromError, type DeliveryFailureReason } from './delivery-failure.js';
import type { DeliveryChannel, DeliveryTransport } from './delivery-transport.js';
import { renderSyslogMessage, renderWebhookBody } from './render-alert.js';
import { SyslogTransport } from './syslog-transport.js';
import { WebhookTransport } from './webhook-transport.js';

/** The part of a logger alert delivery needs; a pino logger fits. */
export interface DeliveryLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface Backoff {
  /** Wait after the first failed attempt. */
  readonly firstMs: number;
  /** The wait doubles per failed attempt up to this. */
  readonly maxMs: number;
}

/** 30 s, 1 min, 2 min, ... 32 min, then every hour until delivered. */
export const DEFAULT_BACKOFF: Backoff = Object.freeze({ firstMs: 30_000, maxMs: 3_600_000 });

/** The wait before the next attempt after `attempts` failed ones (1 for the first failure). */
export function backoffDelayMs(attempts: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new TypeError('attempts is a positive integer');
  return Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.min(attempts - 1, 40));
}

export interface AlertDeliveryOptions {
  readonly store: SentinelStore;
  /** Checked here (ERR_CONFIG); an empty object delivers nowhere. */
  readonly config: AlertDeliveryConfigInput;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: DeliveryLogger;
  /** How often start() looks for due rows; default 15 s. */
  readonly intervalMs?: number;
  /** Rows read per run; default 50. */
  readonly batchSize?: number;
  readonly backoff?: Backoff;
  /** Syslog HOSTNAME when the configuration names none; default the host's name. */
  readonly hostname?: string;
  /** Syslog PROCID; default this process's id. */
  readonly procId?: string;
}

export interface DeliveryRun {
  readonly delivered: number;
  readonly failed: number;
  /** Due rows left for the next run because their channel had just failed in this one. */
  readonly deferred: number;
}

export class AlertDelivery {
  /** The configured channels, in the order rows are written. */
  readonly channels: readonly DeliveryChannel[];
  readonly #store: SentinelStore;
  readonly #config: AlertDeliveryConfig;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: DeliveryLogger;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #backoff: Backoff;
  readonly #hostname: string;
  readonly #procId: string;
  readonly #transports: ReadonlyMap<DeliveryChannel, DeliveryTransport>;
  #running: Promise<DeliveryRun> | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: AlertDeliveryOptions) {
    const {
      store, config, clock, random, logger, intervalMs = 15_000, batchSize = 50, backoff = DEFAULT_BACKOFF,
      hostname = osHostname(), procId = String(process.pid),
    } = options;
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 100) throw new TypeError('intervalMs is an integer of at least 100');
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new TypeError('batchSize is 1 to 1000');
    if (!(backoff.firstMs >= 1000 && backoff.maxMs >= backoff.firstMs)) throw new TypeError('backoff.firstMs is at least 1 s and maxMs at least firstMs');
    this.#config = parseAlertDeliveryConfig(config);
    this.#store = store;
    this.#clock = clock;
    this.#random = random;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#batchSize = batchSize;
    this.#backoff = Object.freeze({ ...backoff });
    this.#hostname = this.#config.syslog?.hostname ?? hostname;
    this.#procId = procId;
    const transports = new Map<DeliveryChannel, DeliveryTransport>();
    if (this.#config.webhook) transports.set('webhook', new WebhookTransport({ config: this.#config.webhook, clock }));
    if (this.#config.syslog) transports.set('syslog', new SyslogTransport({ config: this.#config.syslog }));
    this.#transports = transports;
    this.channels = Object.freeze([...transports.keys()]);
  }

  /**
   * Renders the alert for every configured channel and queues one row per channel, due now.
   * Returns the rows' ids (none when no channel is configured). With the loop started, a run
   * follows at once.
   */
  async enqueue(alert: DeliverableAlert): Promise<readonly string[]> {
    checkAlert(alert);
    if (this.channels.length === 0) return [];
    const now = this.#clock.now();
    const at = now.toISOString();
    const rows: DeliveryRow[] = this.channels.map((channel) => ({
      id: randomId(this.#random),
      alertId: alert.id,
      channel,
      payload: channel === 'webhook'
        ? renderWebhookBody(alert)
        : renderSyslogMessage(alert, { facility: this.#config.syslog!.facility, at: now, hostname: this.#hostname, procId: this.#procId }),
      createdAt: at,
      attempts: 0,
      nextAttemptAt: at,
      deliveredAt: null,
      lastError: null,
    }));
    await this.#store.enqueueDeliveries(rows);
    if (this.#timer !== null) this.#tick();
    return rows.map((r) => r.id);
  }

  /**
   * Sends the rows that are due, oldest first, the channels side by side. A failure on a channel
   * ends that channel's turn (its remaining rows wait for the next run, untried and unmarked),
   * so a dead endpoint costs one timeout per run, not one per row. Only one run at a time: a call
   * during a run gets that run's result. Rejects when the store fails.
   */
  runDue(): Promise<DeliveryRun> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Runs every intervalMs (and after each enqueue) until stop(). Calling it twice is harmless. */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref(); // the server's listener keeps the process alive, not this
    this.#tick();
  }

  /** Stops the loop and waits for a run in progress; closes lingering connections. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
    await Promise.all([...this.#transports.values()].map((t) => t.close()));
  }

  #tick(): void {
    this.runDue().catch((e: unknown) => {
      // The store's error text may quote a row; the code says enough.
      this.#logger.warn({ code: isLabkluisError(e) ? e.code : 'unknown' }, 'alert delivery run failed');
    });
  }

  async #run(): Promise<DeliveryRun> {
    const due = await this.#store.dueDeliveries(this.#clock.now().toISOString(), this.#batchSize);
    const lanes = new Map<DeliveryChannel, DeliveryRow[]>();
    for (const row of due) {
      const lane = lanes.get(row.channel);
      if (lane) lane.push(row);
      else lanes.set(row.channel, [row]);
    }
    const results = await Promise.all([...lanes].map(([channel, rows]) => this.#lane(channel, rows)));
    return results.reduce((a, b) => ({ delivered: a.delivered + b.delivered, failed: a.failed + b.failed, deferred: a.deferred + b.deferred }), { delivered: 0, failed: 0, deferred: 0 });
  }

  async #lane(channel: DeliveryChannel, rows: readonly DeliveryRow[]): Promise<DeliveryRun> {
    const transport = this.#transports.get(channel);
    let delivered = 0;
    let failed = 0;
    for (const [i, row] of rows.entries()) {
      if (!transport) {
        // Configured when queued, not now: kept, in case the channel comes back.
        await this.#failed(row, 'not-configured');
        failed++;
        continue;
      }
      let failure: DeliveryFailure | null = null;
      try {
        await transport.send(row);
      } catch (e) {
        failure = failureFromError(e);
      }
      if (failure === null) {
        await this.#store.markDelivered(row.id, this.#clock.now().toISOString());
        this.#logger.info({ ...this.#fields(row), attempts: row.attempts + 1 }, 'alert delivered');
        delivered++;
        continue;
      }
      await this.#failed(row, failure.reason);
      failed++;
      return { delivered, failed, deferred: rows.length - i - 1 };
    }
    return { delivered, failed, deferred: 0 };
  }

  async #failed(row: DeliveryRow, reason: DeliveryFailureReason): Promise<void> {
    const attempts = row.attempts + 1;
    const nextAttemptAt = new Date(this.#clock.now().getTime() + backoffDelayMs(attempts, this.#backoff)).toISOString();
    await this.#store.markDeliveryFailed(row.id, attempts, nextAttemptAt, reason);
    this.#logger.warn({ ...this.#fields(row), attempts, reason, nextAttemptAt }, 'alert delivery failed; will retry');
  }

  #fields(row: DeliveryRow): Record<string, unknown> {
    return { deliveryId: row.id, alertId: row.alertId, channel: row.channel };
  }
}
