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
      <div className="error" role="alert">
        Something went wrong: {this.state.error.message}{" "}
        <button onClick={() => this.setState({ error: null })}>Try again</button>
      </div>
    );
  }
}
