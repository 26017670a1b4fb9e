import { Component, type ReactNode } from 'react';

/**
 * Catches a failure to load a lazily loaded page (its chunk could not be downloaded, e.g. offline or
 * after a deploy replaced it): a message in words instead of a blank page.
 */
export class LoadBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <p role="alert" className="error">
        This page could not be loaded. Check your connection and reload the page.
      </p>
    );
  }
}
