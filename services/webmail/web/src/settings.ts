import { LitElement, html, nothing } from 'lit';
import { api, type ClientSetup, type UserSettings } from './api.js';
import './rules.js';

type Tab = 'general' | 'rules' | 'vacation' | 'script';
const TABS: [Tab, string][] = [
  ['general', 'General'],
  ['rules', 'Rules'],
  ['vacation', 'Vacation'],
  ['script', 'Edit script'],
];

const PROTOCOLS: Record<string, string> = {
  imap: 'IMAP (incoming)',
  pop3: 'POP3 (incoming)',
  smtp: 'SMTP (outgoing)',
};
const SECURITY: Record<string, string> = { implicit: 'SSL/TLS', starttls: 'STARTTLS' };

/**
 * The settings page: identity, signature, reply mode, remote images and compose mode (kept per user on
 * the server), and what to type into a mail client, with an Apple profile to download.
 */
export class CorreoSettings extends LitElement {
  static override properties = {
    settings: { state: true },
    setup: { state: true },
    status: { state: true },
    error: { state: true },
    tab: { state: true },
  };

  /** General settings, or the Sieve panes (rules.ts): one tab shown at a time. */
  tab: Tab = 'general';
  settings: UserSettings | null = null;
  setup: ClientSetup | null = null;
  status = '';
  error = '';

  protected override createRenderRoot() {
    return this;
  }

  override connectedCallback() {
    super.connectedCallback();
    api
      .settings()
      .then((settings) => (this.settings = settings))
      .catch((error: unknown) => (this.error = error instanceof Error ? error.message : String(error)));
    api
      .clientSetup()
      .then((setup) => (this.setup = setup))
      .catch(() => {});
  }

  override render() {
    const s = this.settings;
    return html`
      <section class="settings" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <div class="tabs" role="tablist" aria-label="Settings">
          ${TABS.map(
            ([tab, label]) =>
              html`<button
                type="button"
                role="tab"
                aria-selected=${this.tab === tab ? 'true' : 'false'}
                @click=${() => (this.tab = tab)}
              >
                ${label}
              </button>`,
          )}
        </div>
        ${
          this.tab !== 'general'
            ? html`<correo-sieve role="tabpanel" .pane=${this.tab}></correo-sieve>`
            : this.#renderGeneral(s)
        }
      </section>
    `;
  }

  #renderGeneral(s: UserSettings | null) {
    return html`
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${
        s
          ? html`<form @submit=${this.#save}>
              <label for="display-name">Display name</label>
              <input id="display-name" name="displayName" maxlength="200" .value=${s.displayName} />
              <label for="signature">Signature</label>
              <textarea id="signature" name="signature" rows="4" .value=${s.signature}></textarea>
              <label for="reply-mode">Reply (r) answers</label>
              <select id="reply-mode" name="replyMode">
                <option value="reply" ?selected=${s.replyMode === 'reply'}>the sender</option>
                <option value="reply-all" ?selected=${s.replyMode === 'reply-all'}>everyone</option>
              </select>
              <label for="images-policy">Remote images in mail</label>
              <select id="images-policy" name="imagesPolicy">
                <option value="ask" ?selected=${s.imagesPolicy === 'ask'}>blocked, ask each time</option>
                <option value="always" ?selected=${s.imagesPolicy === 'always'}>always shown</option>
                <option value="never" ?selected=${s.imagesPolicy === 'never'}>never shown</option>
              </select>
              <label for="compose-mode">Write new messages in</label>
              <select id="compose-mode" name="composeMode">
                <option value="text" ?selected=${s.composeMode === 'text'}>plain text</option>
                <option value="html" ?selected=${s.composeMode === 'html'}>rich text</option>
              </select>
              <div class="actions">
                <button type="submit" class="primary">Save settings</button>
                <span role="status">${this.status}</span>
              </div>
            </form>`
          : html`<p class="loading">Loading…</p>`
      }
      ${this.#renderSetup()}
    `;
  }

  #renderSetup() {
    const setup = this.setup;
    if (!setup) return nothing;
    return html`
      <section class="client-setup" aria-labelledby="client-setup-title">
        <h3 id="client-setup-title">Set up your mail client</h3>
        <p>
          Most clients (Thunderbird, Outlook, Apple Mail, K-9) set themselves up from your address. If yours
          asks, use these; the user name is your address, the password your mail password.
        </p>
        <dl class="headers">
          <dt>User name</dt>
          <dd>${setup.address}</dd>
          <dt>Server</dt>
          <dd>${setup.hostname}</dd>
        </dl>
        <table>
          <thead>
            <tr>
              <th scope="col">Protocol</th>
              <th scope="col">Port</th>
              <th scope="col">Security</th>
            </tr>
          </thead>
          <tbody>
            ${setup.endpoints.map(
              (e) =>
                html`<tr>
                  <td>${PROTOCOLS[e.protocol] ?? e.protocol}</td>
                  <td>${e.port}</td>
                  <td>${SECURITY[e.tls] ?? e.tls}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <p>
          <a class="button" href=${api.mobileconfigUrl} download>Download profile for iPhone, iPad and Mac</a>
        </p>
      </section>
    `;
  }

  #save = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const changes = Object.fromEntries(
      ['displayName', 'signature', 'replyMode', 'imagesPolicy', 'composeMode'].map((k) => [
        k,
        String(form.get(k) ?? ''),
      ]),
    ) as unknown as UserSettings;
    this.error = '';
    this.status = '';
    api
      .saveSettings(changes)
      .then((saved) => {
        this.settings = saved;
        this.status = 'Settings saved.';
        this.dispatchEvent(new CustomEvent('settings-saved', { detail: saved, bubbles: true }));
      })
      .catch((error: unknown) => (this.error = error instanceof Error ? error.message : String(error)));
  };
}

customElements.define('correo-settings', CorreoSettings);
