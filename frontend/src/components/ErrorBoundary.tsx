import { Component, type ReactNode } from "react";

/** A rendering bug shows a message and a way back, never a blank screen. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="m-8 rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900">
        <p className="font-semibold">Something went wrong</p>
        <p className="mt-1">{this.state.error.message}</p>
        <button className="mt-3 rounded-md border border-red-300 bg-white px-3 py-1" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
