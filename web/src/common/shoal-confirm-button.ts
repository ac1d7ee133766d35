import { html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';

/** How long the button waits for the second click before it stands down. */
const CONFIRM_MS = 4000;

/**
 * A delete button that asks once more before it acts, without a modal dialog. Emits `confirm` on
 * the second click. The words can change for other destructive acts, such as removing a node.
 */
@customElement('shoal-confirm-button')
export class ShoalConfirmButton extends LitElement {
  static override styles = [baseStyles];

  @property() label = 'Delete';
  /** Asked on the first click. */
  @property() question = 'Really delete?';
  /** Shown while the action runs. */
  @property({ attribute: 'busy-label' }) busyLabel = 'Deleting…';
  @property({ type: Boolean }) busy = false;
  /** What it acts on, named with the words where a list repeats the button: "Revoke invite kitchen laptop". */
  @property() subject = '';
  @state() private armed = false;
  #disarm: ReturnType<typeof setTimeout> | undefined;

  override render() {
    const words = this.busy ? this.busyLabel : this.armed ? this.question : this.label;
    return html`<button
      class="small danger ${this.armed ? 'armed' : ''}"
      ?disabled=${this.busy}
      aria-label=${this.subject ? `${words} ${this.subject}` : nothing}
      @click=${this.#onClick}
    >
      ${words}
    </button>`;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#disarm);
  }

  #onClick(): void {
    clearTimeout(this.#disarm);
    this.armed = !this.armed;
    if (this.armed) this.#disarm = setTimeout(() => (this.armed = false), CONFIRM_MS);
    else this.dispatchEvent(new CustomEvent('confirm'));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-confirm-button': ShoalConfirmButton;
  }
}
