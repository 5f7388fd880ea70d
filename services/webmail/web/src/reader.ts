import { html, nothing } from 'lit';
import type { AuthenticationSummary, MessageView } from './api.js';

/** What the reading pane shows under the headers besides the body: every header, or the raw message. */
export type ReaderDetail =
  | { kind: 'headers'; headers: { name: string; value: string }[] }
  | { kind: 'raw'; text: string; cut: boolean };

export interface ReaderHost {
  showImages: boolean;
  detail: ReaderDetail | null;
  showDetail(kind: ReaderDetail['kind'] | null): void;
  allowImages(scope: 'message' | 'sender'): void;
  forgetSender(sender: string): void;
}

const LABELS: Record<keyof AuthenticationSummary, string> = { spf: 'SPF', dkim: 'DKIM', dmarc: 'DMARC' };

/**
 * SPF, DKIM and DMARC as our own MX judged them (only its Authentication-Results count: the server
 * ignores any other host's). pass and fail stand out; anything else (none, neutral, temperror...) is
 * shown as the word it is.
 */
export function renderAuthentication(m: MessageView) {
  const results = m.authentication;
  if (!results) return nothing;
  return html`<ul class="auth-results" aria-label="Sender checks by our mail server">
    ${(Object.keys(LABELS) as (keyof AuthenticationSummary)[]).map((method) => {
      const result = results[method] ?? 'none';
      const tone = result === 'pass' ? 'pass' : result === 'fail' || result === 'softfail' ? 'fail' : 'other';
      return html`<li class="badge ${tone}" data-method=${method} title="${LABELS[method]}: ${result}">
        ${LABELS[method]} ${result}
      </li>`;
    })}
  </ul>`;
}

/** The bar under a message with blocked remote images: for this message, or always for this sender. */
export function renderImagesBar(host: ReaderHost, m: MessageView) {
  if (!m.hasHtml || m.remoteImages === 0) return nothing;
  if (host.showImages) {
    return m.imagesAllowed
      ? html`<p class="images-blocked">
          Images from ${m.sender} are shown because you allowed them.
          <button type="button" @click=${() => host.forgetSender(m.sender)}>Stop showing them</button>
        </p>`
      : nothing;
  }
  return html`<p class="images-blocked">
    ${m.remoteImages} remote image${m.remoteImages === 1 ? ' was' : 's were'} blocked to protect your privacy.
    <button type="button" @click=${() => host.allowImages('message')}>Show images</button>
    ${
      m.senderListAvailable && m.sender
        ? html`<button type="button" @click=${() => host.allowImages('sender')}>
            Always show images from ${m.sender}
          </button>`
        : nothing
    }
  </p>`;
}

export function renderDetailButtons(host: ReaderHost) {
  const is = (kind: ReaderDetail['kind']) => host.detail?.kind === kind;
  return html`<button
      type="button"
      aria-pressed=${is('headers') ? 'true' : 'false'}
      @click=${() => host.showDetail(is('headers') ? null : 'headers')}
    >
      Headers
    </button>
    <button
      type="button"
      aria-pressed=${is('raw') ? 'true' : 'false'}
      @click=${() => host.showDetail(is('raw') ? null : 'raw')}
    >
      Raw source
    </button>`;
}

export function renderDetail(host: ReaderHost) {
  const detail = host.detail;
  if (!detail) return nothing;
  if (detail.kind === 'headers') {
    return html`<section class="all-headers" aria-label="All headers">
      <table>
        <tbody>
          ${detail.headers.map(
            (header) =>
              html`<tr>
                <th scope="row">${header.name}</th>
                <td>${header.value}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>`;
  }
  // Text, never markup: lit escapes it, and the pane's CSP would not run anything anyway.
  return html`<section class="raw-source" aria-label="Raw source">
    <pre>${detail.text}</pre>
    ${detail.cut ? html`<p>Only the beginning is shown; download the source for all of it.</p>` : nothing}
  </section>`;
}
