// Passkeys: registration on "Two-factor sign-in", sign-in on /login and on the second-factor page.
// Loaded only by the pages that hold a [data-passkey-register] or [data-passkey-sign-in] element.
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var raw = atob(base64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The box's own token, else the page's (the layout's hx-headers on <body>).
  function csrf(box) {
    if (box.dataset.csrf) { return box.dataset.csrf; }
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (error) { return ""; }
  }

  function post(box, url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(box)},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || "The passkey was not accepted."); }
        return data;
      });
    });
  }

  function credentialJSON(credential) {
    var response = credential.response, out = {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(), response: {
        clientDataJSON: toText(response.clientDataJSON)
      }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      if (response.getTransports) { out.response.transports = response.getTransports(); }
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) { out.response.userHandle = toText(response.userHandle); }
    }
    return out;
  }

  function showError(box, error) {
    var line = box.querySelector("[data-passkey-error]");
    line.textContent = error.message || String(error);
    line.hidden = false;
  }

  function register(box) {
    var nameInput = box.querySelector("input[name=passkey_name]");
    post(box, box.dataset.options).then(function (options) {
      options.challenge = toBytes(options.challenge);
      options.user.id = toBytes(options.user.id);
      (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      return navigator.credentials.create({publicKey: options});
    }).then(function (credential) {
      return post(box, box.dataset.url, {name: nameInput ? nameInput.value : "", credential: credentialJSON(credential)});
    }).then(function (data) { window.location.assign(data.redirect); })
      .catch(function (error) { showError(box, error); });
  }

  function signIn(box) {
    post(box, box.dataset.options).then(function (options) {
      options.challenge = toBytes(options.challenge);
      (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      return navigator.credentials.get({publicKey: options});
    }).then(function (credential) {
      return post(box, box.dataset.url, credentialJSON(credential));
    }).then(function (data) { window.location.assign(data.redirect); })
      .catch(function (error) { showError(box, error); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-passkey-register] button").forEach(function (button) {
      button.addEventListener("click", function () { register(button.closest("[data-passkey-register]")); });
    });
    document.querySelectorAll("[data-passkey-sign-in] button").forEach(function (button) {
      button.addEventListener("click", function () { signIn(button.closest("[data-passkey-sign-in]")); });
    });
  });
}());
