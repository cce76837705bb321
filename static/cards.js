// The Add card form (templates/cards/new.html): the processor's card element (stripe.js) takes the card's
// details, this script asks the panel for a SetupIntent (JSON: its client secret never appears in a page),
// confirms it with the card, and posts the SetupIntent's id so the panel stores the card. No inline script:
// the Content-Security-Policy forbids it.
(function () {
  "use strict";

  function say(form, text) {
    const box = form.querySelector("[data-card-error]");
    if (box) box.textContent = text || "";
  }

  async function clientSecret(form) {
    const response = await fetch(form.dataset.intentUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": form.querySelector("input[name=csrf_token]").value, "Accept": "application/json"},
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.client_secret) {
      throw new Error(body.error || "The card could not be set up now: try again in a moment.");
    }
    return body.client_secret;
  }

  function mount(form) {
    if (form.dataset.mounted) return;
    form.dataset.mounted = "1";
    if (typeof window.Stripe !== "function") {
      say(form, "The card form could not be loaded: reload the page to try again.");
      return;
    }
    const stripe = window.Stripe(form.dataset.publishableKey);
    const card = stripe.elements().create("card");
    card.mount(form.querySelector("[data-card-element]"));
    const button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", async (event) => {
      if (form.dataset.confirmed) return;  // the SetupIntent is confirmed: let the form post
      event.preventDefault();
      button.disabled = true;
      say(form, "");
      try {
        const secret = await clientSecret(form);
        const result = await stripe.confirmCardSetup(secret, {payment_method: {card: card}});
        if (result.error) {
          say(form, result.error.message || "The card was declined.");
          button.disabled = false;
          return;
        }
        form.querySelector("input[name=setup_intent]").value = result.setupIntent.id;
        form.dataset.confirmed = "1";
        form.submit();
      } catch (problem) {
        say(form, problem.message || "The card could not be set up: try again.");
        button.disabled = false;
      }
    });
  }

  function mountAll() {
    document.querySelectorAll("form[data-card-form]").forEach(mount);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
