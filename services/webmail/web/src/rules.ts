import { LitElement, html, nothing } from 'lit';
import {
  api,
  ApiError,
  type Rule,
  type RuleAction,
  type RuleCondition,
  type SieveForms,
  type VacationForm,
} from './api.js';

export type SievePane = 'rules' | 'vacation' | 'script';

const FIELDS: Record<RuleCondition['field'], string> = {
  subject: 'Subject',
  from: 'From',
  to: 'To or Cc',
  header: 'Header field',
};
const MATCHES: Record<RuleCondition['match'], string> = {
  contains: 'contains',
  is: 'is exactly',
  matches: 'matches (* and ?)',
};
const ACTIONS: Record<RuleAction['type'], string> = {
  fileinto: 'Move to folder',
  read: 'Mark as read',
  flag: 'Flag',
  redirect: 'Forward to',
  discard: 'Delete',
  stop: 'Stop (no later rules)',
};

const newCondition = (): RuleCondition => ({ field: 'subject', match: 'contains', value: '' });
const newAction = (type: RuleAction['type'] = 'fileinto'): RuleAction =>
  type === 'fileinto'
    ? { type, folder: '' }
    : type === 'redirect'
      ? { type, address: '', copy: true }
      : { type };

/** The browser's offset from UTC as +hhmm: the vacation's first and last day are the user's days. */
function localZone(): string {
  const minutes = -new Date().getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

function describe(rule: Rule): string {
  const when = rule.conditions.length
    ? rule.conditions
        .map((c) => `${c.field === 'header' ? c.header : FIELDS[c.field]} ${MATCHES[c.match]} “${c.value}”`)
        .join(rule.match === 'all' ? ' and ' : ' or ')
    : 'every message';
  const then = rule.actions
    .map((a) =>
      a.type === 'fileinto'
        ? `move to ${a.folder}`
        : a.type === 'redirect'
          ? `forward to ${a.address}${a.copy ? ' (keep a copy)' : ''}`
          : ACTIONS[a.type].toLowerCase(),
    )
    .join(', ');
  return `If ${when}: ${then}`;
}

/**
 * Rules, vacation reply and the whole Sieve script, kept by the server through ManageSieve
 * (services/webmail/src/routes/rules.ts). Every save sends the whole rule list, in order; the
 * server's answer (the script as stored) replaces what is shown.
 */
export class CorreoSieve extends LitElement {
  static override properties = {
    pane: {},
    forms: { state: true },
    editing: { state: true },
    status: { state: true },
    error: { state: true },
    unavailable: { state: true },
  };

  pane: SievePane = 'rules';
  forms: SieveForms | null = null;
  /** The rule being edited (index -1: a new one), a working copy. */
  editing: { index: number; rule: Rule } | null = null;
  status = '';
  error = '';
  unavailable = '';

  protected override createRenderRoot() {
    return this;
  }

  override connectedCallback() {
    super.connectedCallback();
    api
      .sieve()
      .then((forms) => (this.forms = forms))
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.code === 'no_managesieve') this.unavailable = error.message;
        else this.error = error instanceof Error ? error.message : String(error);
      });
  }

  override render() {
    if (this.unavailable) return html`<p class="notice">${this.unavailable}</p>`;
    return html`
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <p role="status">${this.status}</p>
      ${
        this.forms?.edited && this.pane !== 'script'
          ? html`<p class="notice">
              The rules part of your script was changed by hand. Saving here replaces that part with the form.
            </p>`
          : nothing
      }
      ${
        !this.forms
          ? html`<p class="loading">Loading…</p>`
          : this.pane === 'rules'
            ? this.#renderRules(this.forms)
            : this.pane === 'vacation'
              ? this.#renderVacation(this.forms)
              : this.#renderScript(this.forms)
      }
    `;
  }

  #renderRules(forms: SieveForms) {
    if (this.editing) return this.#renderEditor(this.editing.rule);
    const rules = forms.rules;
    return html`
      <section aria-labelledby="rules-title">
        <h3 id="rules-title">Rules</h3>
        <p>New mail is checked against these rules from top to bottom when it arrives.</p>
        ${
          rules.length === 0
            ? html`<p>No rules yet.</p>`
            : html`<ol class="rules">
                ${rules.map(
                  (rule, i) =>
                    html`<li class=${rule.enabled ? '' : 'disabled'}>
                      <label>
                        <input
                          type="checkbox"
                          .checked=${rule.enabled}
                          aria-label=${`Rule “${rule.name}” enabled`}
                          @change=${(e: Event) =>
                            this.#saveRules(
                              rules.map((r, j) =>
                                j === i ? { ...r, enabled: (e.target as HTMLInputElement).checked } : r,
                              ),
                              'Rule saved.',
                            )}
                        />
                        <strong>${rule.name}</strong>
                      </label>
                      <span class="summary">${describe(rule)}</span>
                      <span class="rule-buttons">
                        <button
                          type="button"
                          ?disabled=${i === 0}
                          aria-label=${`Move “${rule.name}” up`}
                          @click=${() => this.#saveRules(swap(rules, i, i - 1), 'Order saved.')}
                        >
                          ↑
                        </button>
                        <button
                          type="button"
                          ?disabled=${i === rules.length - 1}
                          aria-label=${`Move “${rule.name}” down`}
                          @click=${() => this.#saveRules(swap(rules, i, i + 1), 'Order saved.')}
                        >
                          ↓
                        </button>
                        <button
                          type="button"
                          aria-label=${`Edit “${rule.name}”`}
                          @click=${() => (this.editing = { index: i, rule: structuredClone(rule) })}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          aria-label=${`Delete “${rule.name}”`}
                          @click=${() => {
                            if (confirm(`Delete the rule “${rule.name}”?`))
                              this.#saveRules(
                                rules.filter((_, j) => j !== i),
                                'Rule deleted.',
                              );
                          }}
                        >
                          Delete
                        </button>
                      </span>
                    </li>`,
                )}
              </ol>`
        }
        <button
          type="button"
          class="primary"
          @click=${() =>
            (this.editing = {
              index: -1,
              rule: {
                name: '',
                enabled: true,
                match: 'all',
                conditions: [newCondition()],
                actions: [newAction()],
              },
            })}
        >
          Add rule
        </button>
      </section>
    `;
  }

  #renderEditor(rule: Rule) {
    const update = () => this.requestUpdate();
    return html`
      <form class="rule-editor" @submit=${this.#saveEditing} aria-labelledby="rule-editor-title">
        <h3 id="rule-editor-title">${this.editing!.index < 0 ? 'New rule' : 'Edit rule'}</h3>
        <label for="rule-name">Rule name</label>
        <input
          id="rule-name"
          required
          maxlength="200"
          .value=${rule.name}
          @input=${(e: Event) => (rule.name = (e.target as HTMLInputElement).value)}
        />
        <label for="rule-match">Apply when</label>
        <select
          id="rule-match"
          @change=${(e: Event) => (rule.match = (e.target as HTMLSelectElement).value as Rule['match'])}
        >
          <option value="all" ?selected=${rule.match === 'all'}>all conditions hold</option>
          <option value="any" ?selected=${rule.match === 'any'}>any condition holds</option>
        </select>
        <fieldset>
          <legend>Conditions</legend>
          ${rule.conditions.map(
            (c, i) =>
              html`<div class="row">
                <select
                  aria-label=${`Condition ${i + 1} field`}
                  @change=${(e: Event) => {
                    c.field = (e.target as HTMLSelectElement).value as RuleCondition['field'];
                    if (c.field === 'header') c.header ??= '';
                    else delete c.header;
                    update();
                  }}
                >
                  ${Object.entries(FIELDS).map(
                    ([value, label]) =>
                      html`<option value=${value} ?selected=${c.field === value}>${label}</option>`,
                  )}
                </select>
                ${
                  c.field === 'header'
                    ? html`<input
                        aria-label=${`Condition ${i + 1} header name`}
                        placeholder="List-Id"
                        required
                        .value=${c.header ?? ''}
                        @input=${(e: Event) => (c.header = (e.target as HTMLInputElement).value)}
                      />`
                    : nothing
                }
                <select
                  aria-label=${`Condition ${i + 1} match`}
                  @change=${(e: Event) => (c.match = (e.target as HTMLSelectElement).value as RuleCondition['match'])}
                >
                  ${Object.entries(MATCHES).map(
                    ([value, label]) =>
                      html`<option value=${value} ?selected=${c.match === value}>${label}</option>`,
                  )}
                </select>
                <input
                  aria-label=${`Condition ${i + 1} value`}
                  .value=${c.value}
                  @input=${(e: Event) => (c.value = (e.target as HTMLInputElement).value)}
                />
                ${this.#removeButton(`Remove condition ${i + 1}`, rule.conditions, i)}
              </div>`,
          )}
          ${this.#addButton('Add condition', rule.conditions, newCondition)}
        </fieldset>
        <fieldset>
          <legend>Then</legend>
          ${rule.actions.map(
            (a, i) =>
              html`<div class="row">
                <select
                  aria-label=${`Action ${i + 1}`}
                  @change=${(e: Event) => {
                    rule.actions[i] = newAction((e.target as HTMLSelectElement).value as RuleAction['type']);
                    update();
                  }}
                >
                  ${Object.entries(ACTIONS).map(
                    ([value, label]) =>
                      html`<option value=${value} ?selected=${a.type === value}>${label}</option>`,
                  )}
                </select>
                ${
                  a.type === 'fileinto'
                    ? html`<input
                        aria-label=${`Action ${i + 1} folder`}
                        required
                        .value=${a.folder}
                        @input=${(e: Event) => (a.folder = (e.target as HTMLInputElement).value)}
                      />`
                    : a.type === 'redirect'
                      ? html`<input
                            type="email"
                            aria-label=${`Action ${i + 1} address`}
                            required
                            .value=${a.address}
                            @input=${(e: Event) => (a.address = (e.target as HTMLInputElement).value)}
                          /><label
                            ><input
                              type="checkbox"
                              .checked=${a.copy}
                              @change=${(e: Event) => (a.copy = (e.target as HTMLInputElement).checked)}
                            />
                            keep a copy</label
                          >`
                      : nothing
                }
                ${this.#removeButton(`Remove action ${i + 1}`, rule.actions, i)}
              </div>`,
          )}
          ${this.#addButton('Add action', rule.actions, () => newAction('read'))}
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary">Save rule</button>
          <button type="button" @click=${() => (this.editing = null)}>Cancel</button>
        </div>
      </form>
    `;
  }

  /** The editor changes its working copy in place; these buttons then ask lit to render again. */
  #removeButton(label: string, list: unknown[], index: number) {
    return html`<button
      type="button"
      aria-label=${label}
      @click=${() => {
        list.splice(index, 1);
        this.requestUpdate();
      }}
    >
      ×
    </button>`;
  }

  #addButton<T>(label: string, list: T[], make: () => T) {
    return html`<button
      type="button"
      @click=${() => {
        list.push(make());
        this.requestUpdate();
      }}
    >
      ${label}
    </button>`;
  }

  #saveEditing = (event: SubmitEvent) => {
    event.preventDefault();
    const { index, rule } = this.editing!;
    const rules = [...this.forms!.rules];
    if (index < 0) rules.push(rule);
    else rules[index] = rule;
    this.#saveRules(rules, 'Rule saved.', () => (this.editing = null));
  };

  #saveRules(rules: Rule[], done: string, then?: () => void) {
    this.#save(() => api.saveRules(rules), done, then);
  }

  #save(request: () => Promise<SieveForms>, done: string, then?: () => void) {
    this.error = '';
    this.status = 'Saving…';
    request()
      .then((forms) => {
        this.forms = forms;
        this.status = done;
        then?.();
      })
      .catch((error: unknown) => {
        this.status = '';
        this.error = error instanceof Error ? error.message : String(error);
      });
  }

  #renderVacation(forms: SieveForms) {
    const v: VacationForm = forms.vacation ?? {
      enabled: false,
      subject: '',
      body: '',
      days: 7,
      addresses: [],
      from: '',
    };
    return html`
      <form class="vacation" @submit=${this.#saveVacation} aria-labelledby="vacation-title">
        <h3 id="vacation-title">Vacation reply</h3>
        <label class="check">
          <input type="checkbox" name="enabled" .checked=${v.enabled} />
          Send an automatic reply
        </label>
        <label for="vacation-subject">Reply subject</label>
        <input
          id="vacation-subject"
          name="subject"
          maxlength="200"
          placeholder="Auto: (their subject)"
          .value=${v.subject}
        />
        <label for="vacation-body">Reply text</label>
        <textarea id="vacation-body" name="body" rows="6" required .value=${v.body}></textarea>
        <label for="vacation-days">Answer each sender at most once every (days)</label>
        <input id="vacation-days" name="days" type="number" min="1" max="30" .value=${String(v.days)} />
        <label for="vacation-start">First day (optional)</label>
        <input id="vacation-start" name="start" type="date" .value=${v.start ?? ''} />
        <label for="vacation-end">Last day (optional)</label>
        <input id="vacation-end" name="end" type="date" .value=${v.end ?? ''} />
        <label for="vacation-from">Reply from (optional)</label>
        <input id="vacation-from" name="from" type="email" .value=${v.from} />
        <label for="vacation-addresses">My other addresses (comma separated)</label>
        <input id="vacation-addresses" name="addresses" .value=${v.addresses.join(', ')} />
        <div class="actions">
          <button type="submit" class="primary">Save vacation reply</button>
        </div>
      </form>
    `;
  }

  #saveVacation = (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const form: VacationForm = {
      enabled: data.get('enabled') === 'on',
      subject: text('subject'),
      body: String(data.get('body') ?? ''),
      days: Number(text('days') || 7),
      addresses: text('addresses')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
      from: text('from'),
      ...(text('start') ? { start: text('start') } : {}),
      ...(text('end') ? { end: text('end') } : {}),
      zone: localZone(),
    };
    this.#save(
      () => api.saveVacation(form),
      form.enabled ? 'Vacation reply is on.' : 'Vacation reply is off.',
    );
  };

  #renderScript(forms: SieveForms) {
    return html`
      <form class="script" @submit=${this.#saveScript} aria-labelledby="script-title">
        <h3 id="script-title">Sieve script</h3>
        <p>
          The whole script the server runs for your mail (“${forms.scriptName}”), for those who write Sieve
          (RFC 5228). The part between the <code>correo-forms</code> markers belongs to the rules and vacation
          forms.
        </p>
        <label for="sieve-script">Script</label>
        <textarea
          id="sieve-script"
          name="script"
          rows="20"
          spellcheck="false"
          .value=${forms.script}
        ></textarea>
        <div class="actions">
          <button type="submit" class="primary">Save script</button>
        </div>
      </form>
    `;
  }

  #saveScript = (event: SubmitEvent) => {
    event.preventDefault();
    const area = (event.target as HTMLFormElement).querySelector<HTMLTextAreaElement>('#sieve-script')!;
    this.error = '';
    this.status = 'Saving…';
    api
      .saveScript(area.value)
      .then((forms) => {
        this.forms = forms;
        this.status = 'Script saved.';
      })
      .catch((error: unknown) => {
        this.status = '';
        const detail = error instanceof ApiError ? error.details?.[0] : undefined;
        if (detail?.line !== undefined && detail.column !== undefined) {
          this.error = `Line ${detail.line}, column ${detail.column}: ${detail.message.replace(/^line \d+, column \d+: /, '')}`;
          // Put the cursor where the server says the mistake is.
          const lines = area.value.split('\n');
          const offset =
            lines.slice(0, detail.line - 1).reduce((n, l) => n + l.length + 1, 0) + detail.column - 1;
          area.focus();
          area.setSelectionRange(offset, offset);
        } else this.error = error instanceof Error ? error.message : String(error);
      });
  };
}

function swap<T>(list: T[], i: number, j: number): T[] {
  const copy = [...list];
  [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  return copy;
}

customElements.define('correo-sieve', CorreoSieve);
