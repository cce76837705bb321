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

  async function clientSecret(form, url) {
    const response = await fetch(url || form.dataset.intentUrl, {
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

  // Paying by card (the checkout, an order's Retry, a quote's Convert: templates/store/_card_pay.html): a saved
  // card posts as chosen; "A new card" first confirms a SetupIntent with the card typed, then posts its id.
  function mountPay(box) {
    if (box.dataset.mounted) return;
    box.dataset.mounted = "1";
    const form = box.closest("form");
    const say = (text) => { box.querySelector("[data-card-error]").textContent = text || ""; };
    const newCard = box.querySelector("[data-new-card]");
    const choice = () => (box.querySelector("[data-card-choice]:checked") || {}).value;
    const show = () => { newCard.hidden = choice() !== "new"; };
    box.addEventListener("change", show);
    show();
    if (typeof window.Stripe !== "function") {
      say("The card form could not be loaded: reload the page to try again.");
      return;
    }
    const stripe = window.Stripe(box.dataset.publishableKey);
    const card = stripe.elements().create("card");
    card.mount(box.querySelector("[data-card-element]"));
    form.addEventListener("submit", async (event) => {
      const method = form.querySelector("[data-payment-method]:checked, input[name=payment_method]:checked");
      const quote = form.querySelector("input[name=quote]:checked");
      if (form.dataset.confirmed || quote || (form.querySelector("input[name=payment_method]") && (!method || method.value !== "card"))
          || choice() !== "new") return;
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      say("");
      try {
        const secret = await clientSecret(form, box.dataset.intentUrl);
        const result = await stripe.confirmCardSetup(secret, {payment_method: {card: card}});
        if (result.error) {
          say(result.error.message || "The card was declined.");
          button.disabled = false;
          return;
        }
        box.querySelector("input[name=setup_intent]").value = result.setupIntent.id;
        form.dataset.confirmed = "1";
        form.submit();
      } catch (problem) {
        say(problem.message || "The card could not be set up: try again.");
        button.disabled = false;
      }
    });
  }

  function mountAll() {
    document.querySelectorAll("form[data-card-form]").forEach(mount);
    document.querySelectorAll("[data-card-pay]").forEach(mountPay);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
