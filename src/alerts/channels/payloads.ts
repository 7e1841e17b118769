import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertNotification } from '../notification.js';
import type { ChannelType } from './schema.js';

/** What one channel POSTs: the exact body bytes and its headers. */
export interface Outgoing {
  body: string;
  headers: Record<string, string>;
}

export interface RenderTarget {
  type: ChannelType;
  /** The channel's name: Alertmanager's `receiver`. */
  name: string;
  secret: string | null;
}

/** Version of the generic webhook body; bumped only by an incompatible change. */
export const WEBHOOK_VERSION = '1';
export const SIGNATURE_HEADER = 'x-slipway-signature';
const RUNBOOK_EXCERPT = 600;

export function render(target: RenderTarget, n: AlertNotification, deliveryId: number, nowMs = Date.now()): Outgoing {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'slipway-alerts' };
  if (target.type === 'slack') return { body: JSON.stringify(slackPayload(n)), headers };
  if (target.type === 'alertmanager') return { body: JSON.stringify(alertmanagerPayload(target.name, n)), headers };
  const body = JSON.stringify({ version: WEBHOOK_VERSION, ...n });
  headers['x-slipway-delivery'] = String(deliveryId);
  if (target.secret) headers[SIGNATURE_HEADER] = sign(target.secret, body, Math.floor(nowMs / 1000));
  return { body, headers };
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the
 * timestamp is signed with the body, so a receiver that refuses old
 * timestamps also refuses replays.
 */
export function sign(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** What a receiver runs: true when `header` signs `body` with `secret` within `toleranceSeconds` of now. */
export function verifySignature(secret: string, header: string, body: string, toleranceSeconds = 300, nowMs = Date.now()): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowMs / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, body, t).split('v1=')[1], 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const title = (n: AlertNotification) => `${n.status === 'resolved' ? 'RESOLVED' : n.repeat ? 'STILL FIRING' : 'FIRING'}: ${n.alert.rule}`;

function excerpt(markdown: string, max = RUNBOOK_EXCERPT): string {
  const text = markdown.trim();
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** Slack incoming webhook: `text` for notifications and clients without blocks, Block Kit for the message. */
export function slackPayload(n: AlertNotification) {
  const a = n.alert;
  const fields = [`*Severity*\n${a.severity}`, `*Workspace*\n${a.workspace}`];
  if (a.value !== null) fields.push(`*Value*\n${a.value}`);
  if (a.threshold !== null) fields.push(`*Threshold*\n${a.threshold}`);
  const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', ');
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: title(n).slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: `*${a.severity.toUpperCase()}* ${a.summary}`.slice(0, 3000) }, fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (a.runbook.trim()) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Runbook*\n${excerpt(a.runbook)}` } });
  const context = [`alert ${a.id} · started ${a.startsAt}${a.endsAt ? ` · ended ${a.endsAt}` : ''}${labels ? ` · ${labels}` : ''}`];
  if (a.url) context.push(`<${a.url}|Open in Slipway>`);
  blocks.push({ type: 'context', elements: context.map((text) => ({ type: 'mrkdwn', text: text.slice(0, 3000) })) });
  return { text: `${title(n)} (${a.severity}): ${a.summary}${a.url ? ` ${a.url}` : ''}`, blocks };
}

function origin(url: string | null): string {
  try {
    return url ? new URL(url).origin : '';
  } catch {
    return '';
  }
}

/** Alertmanager's zero time: what it sends as `endsAt` of an alert still firing. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Alertmanager's fingerprint: 16 hex digits over the sorted label set (here sha256 rather than its FNV-64a). */
export function fingerprint(labels: Record<string, string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) h.update(`${k}\xff${labels[k]}\xff`);
  return h.digest('hex').slice(0, 16);
}

/**
 * The Alertmanager webhook receiver payload (version 4), so receivers written
 * for Alertmanager (PagerDuty/Opsgenie bridges, alertmanager-webhook-logger…)
 * take Slipway's notifications unchanged: one alert per group, grouped by rule.
 */
export function alertmanagerPayload(receiver: string, n: AlertNotification) {
  const a = n.alert;
  const labels: Record<string, string> = { ...a.labels, alertname: a.rule, severity: a.severity, workspace: a.workspace };
  const annotations: Record<string, string> = { summary: a.summary };
  if (a.runbook.trim()) annotations.runbook = a.runbook;
  if (a.url) annotations.url = a.url;
  if (a.value !== null) annotations.value = String(a.value);
  if (a.threshold !== null) annotations.threshold = String(a.threshold);
  const status = n.status;
  const groupLabels = { alertname: a.rule };
  return {
    version: '4',
    groupKey: `{}:{alertname=${JSON.stringify(a.rule)}}`,
    truncatedAlerts: 0,
    status,
    receiver,
    groupLabels,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: origin(a.url),
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: a.startsAt,
        endsAt: status === 'resolved' ? (a.endsAt ?? new Date().toISOString()) : ZERO_TIME,
        generatorURL: a.url ?? '',
        fingerprint: fingerprint(labels),
      },
    ],
  };
}
