import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen } from "@testing-library/react";
import { TokenPrompt } from "../src/components/status/token-prompt.tsx";
import { createApiClient, type ApiClient } from "../src/lib/api-client.ts";
import type { AuthClient } from "../src/lib/auth-client.ts";
import { createAppStore, StoreProvider } from "../src/store/app-store.ts";

function mount(auth: AuthClient) {
  const reconnect = vi.fn();
  const backends = vi.fn(async () => []);
  const store = createAppStore({
    api: { backends } as unknown as ApiClient,
    send: () => true,
    reconnect,
    now: () => 0,
  });
  render(
    <StoreProvider store={store}>
      <TokenPrompt auth={auth} />
    </StoreProvider>,
  );
  return { store, reconnect, backends };
}

describe("the token prompt", () => {
  it("stays out of sight while the server wants no token", () => {
    mount({ status: vi.fn(), login: vi.fn() });
    expect(screen.queryByLabelText("Access token")).toBeNull();
  });

  it("asks for the token after a 401, says when it is wrong, and reconnects when it is right", async () => {
    const login = vi.fn(async (token: string): Promise<"ok" | "wrong"> =>
      token === "right-token" ? "ok" : "wrong",
    );
    const { store, reconnect, backends } = mount({ status: vi.fn(), login });
    act(() => store.getState().setAuthRequired(true));

    const input = screen.getByPlaceholderText("Access token");
    fireEvent.change(input, { target: { value: "guess" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Sign in" })));
    expect(login).toHaveBeenLastCalledWith("guess");
    expect(screen.getByText("That token is not right.")).toBeTruthy();
    expect(store.getState().authRequired).toBe(true);
    expect(reconnect).not.toHaveBeenCalled();

    fireEvent.change(input, { target: { value: " right-token " } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Sign in" })));
    expect(login).toHaveBeenLastCalledWith("right-token");
    expect(store.getState().authRequired).toBe(false);
    expect(reconnect).toHaveBeenCalledOnce();
    expect(backends).toHaveBeenCalled();
    expect(screen.queryByPlaceholderText("Access token")).toBeNull();
  });
});

describe("the API client", () => {
  it("tells the page when the server answers 401", async () => {
    const onUnauthorized = vi.fn();
    const fetch401 = async () =>
      new Response(JSON.stringify({ error: { code: "unauthorized", message: "Token needed." } }), {
        status: 401,
      });
    const api = createApiClient("", fetch401 as typeof fetch, { onUnauthorized });
    await expect(api.backends()).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });
});
