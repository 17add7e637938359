import type { ComponentChildren } from 'preact';
import { useCallback, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

export type Loaded<T> = { readonly status: 'idle' } | { readonly status: 'loading' } | { readonly status: 'done'; readonly data: T } | { readonly status: 'error'; readonly error: ApiError };

/** Runs a request when asked (a form's submit, a button), keeping what it answered or the error. */
export function useRequest<T, A extends unknown[]>(request: (...args: A) => Promise<T>): [Loaded<T>, (...args: A) => Promise<void>] {
  const [state, setState] = useState<Loaded<T>>({ status: 'idle' });
  // The latest request (it reads the form as rendered last), behind a runner that stays the same across renders.
  const latest = useRef(request);
  latest.current = request;
  const run = useCallback(async (...args: A) => {
    setState({ status: 'loading' });
    try {
      setState({ status: 'done', data: await latest.current(...args) });
    } catch (error) {
      setState({ status: 'error', error: error instanceof ApiError ? error : new ApiError(0, error instanceof Error ? error.message : String(error)) });
    }
  }, []);
  return [state, run];
}

export function ErrorBox({ error }: { error: ApiError }) {
  return (
    <p class="error" role="alert" data-testid="error">
      {error.status > 0 ? `${error.status}: ` : ''}
      {error.message}
      {error.code !== undefined ? ` (${error.code})` : ''}
    </p>
  );
}

/** What a request shows: nothing yet, a spinner line, its error, or its content. */
export function Result<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (state.status === 'idle') return null;
  if (state.status === 'loading') return <p class="muted">Loading…</p>;
  if (state.status === 'error') return <ErrorBox error={state.error} />;
  return <>{children(state.data)}</>;
}

export interface Column<Row> {
  readonly title: string;
  readonly cell: (row: Row) => ComponentChildren;
  readonly numeric?: boolean;
}

export function Table<Row>({ rows, columns, empty, testId }: { rows: readonly Row[]; columns: readonly Column<Row>[]; empty: string; testId: string }) {
  if (rows.length === 0) return <p class="muted" data-testid={testId}>{empty}</p>;
  return (
    <table data-testid={testId}>
      <thead>
        <tr>{columns.map((column) => <th class={column.numeric ? 'num' : undefined}>{column.title}</th>)}</tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr>{columns.map((column) => <td class={column.numeric ? 'num' : undefined}>{column.cell(row)}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

/** A labelled text input bound to one field of a form's state. */
export function Field({ label, value, onInput, placeholder, name }: { label: string; value: string; onInput: (value: string) => void; placeholder?: string; name: string }) {
  return (
    <label>
      {label}
      <input name={name} value={value} placeholder={placeholder} onInput={(event) => onInput(event.currentTarget.value)} />
    </label>
  );
}

/** A form whose submit runs `onSubmit` (never a page navigation: the page policy forbids form actions). */
export function Form({ onSubmit, children, submit }: { onSubmit: () => void; children: ComponentChildren; submit: string }) {
  return (
    <form
      class="filters"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      {children}
      <button type="submit">{submit}</button>
    </form>
  );
}

/** Empty inputs are left out of a query. */
export function present(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function Hash({ value }: { value: unknown }) {
  const text = typeof value === 'string' ? value : '—';
  return <code class="hash" title={text}>{text.length > 16 ? `${text.slice(0, 16)}…` : text}</code>;
}
