// What the views ask of the app (reload the list, select a row), set once by main.ts so
// that no view imports main (no import circles).

export const hooks = {
  reload: async (): Promise<void> => {},
  select: (_name: string): void => {},
};

export const reloadList = (): Promise<void> => hooks.reload();
export const selectAndFocus = (name: string): void => hooks.select(name);
