import { css, html, LitElement } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { uploadIcon } from '../common/icons.ts';
import { baseStyles } from '../common/styles.ts';

/** A drop zone with a file picker behind it. Emits `files-chosen` with the File[] picked or dropped. */
@customElement('shoal-file-drop')
export class ShoalFileDrop extends LitElement {
  static override styles = [
    baseStyles,
    css`
      label {
        display: grid;
        justify-items: center;
        gap: 0.4rem;
        padding: 2rem 1rem;
        text-align: center;
        border: 2px dashed var(--border);
        border-radius: var(--radius);
        background: var(--surface);
        cursor: pointer;
        transition:
          border-color 0.15s,
          background 0.15s;
      }
      label:hover,
      label.over {
        border-color: var(--accent);
        background: var(--accent-soft);
      }
      .icon {
        font-size: 1.8rem;
        color: var(--accent);
      }
      strong {
        font-size: 1.02rem;
      }
      input {
        position: absolute;
        width: 1px;
        height: 1px;
        opacity: 0;
      }
      label:focus-within {
        outline: 2px solid var(--accent);
        outline-offset: 2px;
      }
    `,
  ];

  @state() private over = false;
  @query('input') private input!: HTMLInputElement;

  override render() {
    return html`<label
      class=${this.over ? 'over' : ''}
      @dragover=${this.#onDragOver}
      @dragleave=${() => (this.over = false)}
      @drop=${this.#onDrop}
    >
      <span class="icon">${uploadIcon}</span>
      <strong>Drop files here or choose files</strong>
      <span class="muted">Several at once is fine. Each file is split into chunks and stored on several nodes.</span>
      <input type="file" multiple @change=${this.#onPicked} />
    </label>`;
  }

  #onDragOver(event: DragEvent): void {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    this.over = true;
  }

  #onDrop(event: DragEvent): void {
    event.preventDefault();
    this.over = false;
    this.#emit([...(event.dataTransfer?.files ?? [])]);
  }

  #onPicked(): void {
    this.#emit([...(this.input.files ?? [])]);
    // Picking the same file again should upload it again.
    this.input.value = '';
  }

  #emit(files: File[]): void {
    if (files.length > 0) this.dispatchEvent(new CustomEvent<File[]>('files-chosen', { detail: files, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-file-drop': ShoalFileDrop;
  }
}
