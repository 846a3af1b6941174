export function ErrorBanner({ message, onDismiss }: { message: string | null; onDismiss: () => void }) {
  if (!message) return null;
  return (
    <div className="error" role="alert">
      {message} <button onClick={onDismiss}>×</button>
    </div>
  );
}
