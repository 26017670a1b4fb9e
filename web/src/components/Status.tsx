import type { CombinedError } from '@urql/core';
import { describeError } from '../graphql/errors';

/** An API error in words, announced to screen readers as it appears. */
export function ErrorMessage({ error, action }: { error: CombinedError | string | undefined; action?: string }) {
  if (!error) return null;
  const text = typeof error === 'string' ? error : describeError(error);
  return (
    <p role="alert" className="error">
      {action ? <strong>{action}: </strong> : null}
      {text}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Notice({ children }: { children: React.ReactNode }) {
  return (
    <p role="status" className="notice">
      {children}
    </p>
  );
}

export const formatPrice = (price: number) =>
  price === 0 ? 'Free' : new Intl.NumberFormat('en', { style: 'currency', currency: 'USD' }).format(price);
