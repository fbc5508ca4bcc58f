/**
 * Prometheus metrics of one gateway instance, in its own registry (so several gateways in
 * one process, as in tests, do not collide). Served at GET /metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class GatewayMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: "gateway_http_requests_total",
    help: "HTTP requests answered, by route, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: "gateway_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route and method",
    labelNames: ["route", "method"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly operations = new Counter({
    name: "gateway_operations_total",
    help: "Operations accepted into the outbox, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly stepsSettled = new Counter({
    name: "gateway_outbox_steps_settled_total",
    help: "Outbox steps confirmed or failed, by ledger function and outcome",
    labelNames: ["fn", "outcome"] as const,
    registers: [this.registry],
  });

  readonly transactionsSent = new Counter({
    name: "gateway_transactions_sent_total",
    help: "Transactions signed and broadcast by the operator key (replacements included)",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly rpcRetries = new Counter({
    name: "gateway_rpc_retries_total",
    help: "Transient RPC failures retried with backoff, by component",
    labelNames: ["component"] as const,
    registers: [this.registry],
  });

  readonly outboxDepth = new Gauge({
    name: "gateway_outbox_depth",
    help: "Outbox steps not yet confirmed or failed",
    registers: [this.registry],
  });

  readonly indexedBlock = new Gauge({
    name: "gateway_indexer_next_block",
    help: "The first block the indexer has not read yet",
    registers: [this.registry],
  });

  readonly webhookAttempts = new Counter({
    name: "gateway_webhook_attempts_total",
    help: "Webhook delivery attempts, by outcome (delivered, retrying, failed: given up)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  readonly webhookAttemptsInFlight = new Gauge({
    name: "gateway_webhook_attempts_in_flight",
    help: "Webhook delivery attempts under way",
    registers: [this.registry],
  });

  readonly webhookCircuitState = new Gauge({
    name: "gateway_webhook_circuit_state",
    help: "Each webhook endpoint's circuit breaker: 0 closed, 1 half-open (one probe), 2 open (no attempts; deliveries wait)",
    labelNames: ["subscription"] as const,
    registers: [this.registry],
  });

  readonly webhookCircuitChanges = new Counter({
    name: "gateway_webhook_circuit_changes_total",
    help: "Webhook circuit breaker changes, by the state entered",
    labelNames: ["to"] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "gateway_" });
  }
}
