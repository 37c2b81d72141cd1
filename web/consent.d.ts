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

/** A receipt: the proof of one event, as the server stores it. */
export interface ConsentReceipt {
  /** Receipt id (128 random bits, base64url): the server's idempotency key. */
  id: string;
  /** The pseudonymous consent id. */
  subject: string;
  event: "banner_shown" | "consent_given" | "consent_refused" | "withdrawn" | "notice_displayed" |
    "acknowledged" | "continued_use" | "identifier_reset" | "permission_answered" |
    "separate_answered";
  /** The policy version shown, and the SHA-256 of its exact text. */
  policy: string;
  policySha256: string;
  locale: "zh-CN" | "en";
  /** The optional categories granted after the event. */
  granted: string[];
  /** When, in Unix milliseconds, by the browser's clock (its claim: the server keeps it whatever it is). */
  time: number;
  method: "banner" | "preferences" | "notice" | "api" | "placeholder" | "prompt" | "page";
  /** Whether the browser sent Global Privacy Control. */
  gpc: boolean;
  /** The browser sent Do Not Track, on a site that honours it. */
  dnt?: boolean;
  /** separate_answered: the separate-consent item, the answer and the SHA-256 (hex) of the statement shown. */
  separate?: string;
  answer?: string;
  statementSha256?: string;
  /** SHA-256 (hex) of the same person's previous receipt's wire form; "" for the first. */
  prev: string;
  /**
   * This browser's receipt key (ECDSA P-256, uncompressed point, base64url), one per origin,
   * and its signature (r‖s, base64url) of `wire` without its "sig" field. Absent on a receipt
   * made without WebCrypto (unsigned).
   */
  key?: string;
  sig?: string;
  /** The wire form: the exact text the browser signed and the server hashed and signed. */
  wire: string;
  /** The server's acknowledgement, or null while the receipt waits to be sent. */
  ack: { id: string; seq: number; hash: string; sig: string } | null;
}

/** A browser permission the module asks for through its pre-prompt. */
export type PermissionKind = "camera" | "microphone" | "notifications" | "geolocation" | "persistent-storage";

/**
 * How a permission request ended: granted by the browser; denied by the
 * browser (its prompt, or blocked in its settings); refused by the person in
 * the module's pre-prompt, now or within the back-off, so the browser was not
 * asked.
 */
export type PermissionResult = "granted" | "denied" | "refused";

/** A separate consent's answer: agreed to in the module's dialog (now or before, under the same statement), or not. */
export type SeparateResult = "granted" | "refused";

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
  /**
   * Ask for a browser permission when the person uses the feature that needs
   * it: the module's pre-prompt explains it first (with purpose, if given,
   * as plain text), records the answer as a receipt, and only then lets the
   * browser ask. A list asks for several in one pre-prompt (["camera",
   * "microphone"] for a video call). Asking again while a prompt is open
   * returns the same promise. Rejects with an Error for unknown kinds or
   * wrong types.
   */
  requestPermission(kind: PermissionKind | PermissionKind[], options?: { purpose?: string }): Promise<PermissionResult>;
  /**
   * Ask for a separate consent (单独同意, PIPL arts. 23, 25, 29, 39) when the
   * person uses the feature that needs it: the module's dialog shows the
   * item's statutory fields (site.json's registry.separate) with agree and
   * do-not-agree (Esc does not agree), and records the answer as a receipt
   * with the SHA-256 of the statement shown. Resolves at once with
   * "granted" when granted under the same statement, with "refused" within
   * the back-off after a refusal (separateBackoffDays). Rejects with an
   * Error for an unknown item or while another item is being asked for.
   */
  requestSeparateConsent(id: string): Promise<SeparateResult>;
  /** The person's receipts on this browser, oldest first, with the server's signed acknowledgements. */
  history(): Promise<ConsentReceipt[]>;
}

declare global {
  interface Window {
    consent: ConsentAPI;
  }
  interface WindowEventMap {
    /** Dispatched on window after every change; detail is the new state. */
    "consent:change": CustomEvent<ConsentState | null>;
    /**
     * Dispatched on window when a permission changes after it was asked for:
     * switched off in the privacy settings ("off"), or changed in the
     * browser ("granted", "denied", "reset"). Stop using it unless granted.
     */
    "consent:permission": CustomEvent<{ kind: PermissionKind; state: "off" | "granted" | "denied" | "reset" }>;
    /** Dispatched on window when the person withdraws a separate consent in the privacy settings: stop that processing. */
    "consent:separate": CustomEvent<{ id: string; state: "withdrawn" }>;
  }
}
