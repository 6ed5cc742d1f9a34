// The login form (OAuth2 password flow against /auth/token).

import { logIn } from "./api.js";
import { errorText, h } from "./dom.js";

export function renderLogin(root, { message, onLoggedIn }) {
  const problem = h("p", { class: "error", role: "alert", hidden: !message }, message || "");
  const username = h("input", {
    id: "username",
    name: "username",
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
    required: true,
  });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Log in");
  const form = h(
    "form",
    { class: "login-form", id: "login-form" },
    h("h1", {}, h("img", { src: "icon.svg", alt: "", width: 32, height: 32 }), " Lastmile"),
    h("p", { class: "muted" }, "Remote patient monitoring: log in with your coordinator account."),
    h("label", { for: "username" }, "User name"),
    username,
    h("label", { for: "password" }, "Password"),
    password,
    problem,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    problem.hidden = true;
    try {
      await logIn(username.value.trim(), password.value);
      password.value = "";
      await onLoggedIn();
    } catch (error) {
      problem.textContent =
        error.status === 401
          ? "Wrong user name or password."
          : error.status === 429
            ? "Too many failed attempts; try again later."
            : `Could not log in: ${errorText(error)}`;
      problem.hidden = false;
      submit.disabled = false;
      password.focus();
    }
  });
  root.replaceChildren(h("div", { class: "login" }, form));
  username.focus();
}
