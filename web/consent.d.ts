// Types of window.consent, the consent module's JavaScript API.
// Served beside the loader as /consent.d.ts.

/** A person's consent, or null before they have chosen. */
export interface ConsentState {
  /** The pseudonymous consent id (128 random bits, base64url). */
  id: string;
  /** The policy version the person last acknowledged. */
  policy: string;
  /** Whether that version is the current one (only once the module has loaded). */
  current?: boolean;
  /** The optional categories granted, sorted. */
  granted: string[];
  /** When the person first chose and last changed anything, in Unix seconds. */
  given: number;
  updated: number;
}

export interface ConsentAPI {
  /** Resolves with the state once the module has loaded. */
  readonly ready: Promise<ConsentState | null>;
  /** The state now; null for no consent. */
  state(): ConsentState | null;
  /** Whether category is granted under a published policy version. */
  granted(category: string): boolean;
  /** Grant every optional category. */
  acceptAll(): Promise<ConsentState>;
  /** Refuse every optional category (and clear what they stored). */
  rejectAll(): Promise<ConsentState>;
  /** Grant (true) or refuse (false) the categories named; others keep their state. Rejects for unknown or required categories. */
  set(choices: Record<string, boolean>): Promise<ConsentState>;
  /** Open the preferences centre. */
  openPreferences(): Promise<ConsentState | null>;
  /** Acknowledge the current policy version, keeping every choice. */
  acknowledge(): Promise<ConsentState | null>;
}

declare global {
  interface Window {
    consent: ConsentAPI;
  }
  interface WindowEventMap {
    /** Dispatched on window after every change; detail is the new state. */
    "consent:change": CustomEvent<ConsentState | null>;
  }
}
