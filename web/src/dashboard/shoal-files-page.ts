import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { client } from '../common/api.ts';
import { describeError, type ErrorText } from '../common/error-text.ts';
import { baseStyles } from '../common/styles.ts';
import type { ClusterView } from './live-cluster-controller.ts';
import './shoal-file-drop.ts';
import './shoal-file-list.ts';
import './shoal-upload-list.ts';
import { UploadsController } from './uploads-controller.ts';

/** Upload, download and delete files. Emits `cluster-changed` when it changed what is stored. */
@customElement('shoal-files-page')
export class ShoalFilesPage extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .uploads {
        margin-top: 1rem;
      }
      .uploads header {
        display: flex;
        justify-content: space-between;
        align-items: center;
        margin-bottom: 0.75rem;
      }
      .empty {
        color: var(--muted);
        text-align: center;
        padding: 1.5rem 0;
      }
      .banner {
        margin-bottom: 1rem;
      }
    `,
  ];

  @property({ attribute: false }) cluster!: ClusterView;
  @state() private deleting: ReadonlySet<string> = new Set();
  @state() private problem: ErrorText | null = null;
  readonly #uploads = new UploadsController(this, client, () => this.#changed());

  override render() {
    const { files, health, loaded } = this.cluster;
    const uploads = this.#uploads.uploads;
    const finished = uploads.some((u) => u.state === 'done' || u.state === 'failed');
    return html`
      <header class="page-head">
        <div>
          <h1>Files</h1>
          <p>${health ? `Each file is kept as ${health.replicas} copies on different nodes; ${health.nodesOnline} node${health.nodesOnline === 1 ? ' is' : 's are'} online.` : 'Stored across the cluster.'}</p>
        </div>
      </header>
      ${this.problem ? html`<p class="banner" role="alert">${this.problem.title}<small>${this.problem.detail}</small></p>` : ''}
      <shoal-file-drop @files-chosen=${(e: CustomEvent<File[]>) => this.#uploads.add(e.detail)}></shoal-file-drop>
      ${uploads.length > 0
        ? html`<section class="card uploads">
            <header>
              <h2>Uploads</h2>
              <button class="small" ?hidden=${!finished} @click=${() => this.#uploads.clearFinished()}>Clear finished</button>
            </header>
            <shoal-upload-list .uploads=${uploads}></shoal-upload-list>
          </section>`
        : ''}
      <div class="section-head">
        <h2>Stored files</h2>
        <span class="muted">${files.length} file${files.length === 1 ? '' : 's'}</span>
      </div>
      <section class="card">
        ${files.length > 0
          ? html`<shoal-file-list .files=${files} .deleting=${this.deleting} @delete-file=${(e: CustomEvent<string>) => this.#delete(e.detail)}></shoal-file-list>`
          : html`<p class="empty">${loaded ? 'No files yet. Drop some above.' : 'Loading…'}</p>`}
      </section>
    `;
  }

  async #delete(name: string): Promise<void> {
    this.deleting = new Set([...this.deleting, name]);
    try {
      await client.delete(name);
      this.problem = null;
    } catch (err) {
      this.problem = describeError(err);
    } finally {
      this.deleting = new Set([...this.deleting].filter((n) => n !== name));
      this.#changed();
    }
  }

  #changed(): void {
    this.dispatchEvent(new CustomEvent('cluster-changed', { bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-files-page': ShoalFilesPage;
  }
}
