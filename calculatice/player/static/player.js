/**
 * calcul@TICE exercise player: draws every screen of a séance, sends one message per action.
 *
 * The server (Python) draws the questions, grades the answers and keeps time; this module
 * only shows what each reply says and sends what the pupil does. A transport carries the
 * messages: `widgetTransport(model)` inside Jupyter and Voilà (anywidget custom messages),
 * `httpTransport(url)` on the kernel-less rally page (a JSON POST per message). Each reply
 * is the whole screen, so any reply redraws the page from scratch. The buttons that record
 * nothing need no message: "Suite" after a question is done, "Exercice suivant" and
 * "Commencer" draw the reply's `then` (the screen they lead to, which may carry its own
 * `then`); the next message tells the server how long ago the last was drawn, in `suite`
 * (ms). Between two exercises a pair sends nothing but its answers.
 *
 * Text from the server is always inserted as text (textContent, text nodes), never as
 * HTML; the one exception is a question's SVG picture, which our Python draws.
 *
 * Stable hooks for browser tests:
 *   root element     .cq-player, data-screen = join | title | question | feedback | result | end
 *   join screen      data-testid = code, name, join (the pupil page only: séance code and names)
 *   anywhere         who (the pupil's name and séance, once joined), not-me
 *   title screen     data-testid = exercise-title, instructions, timing, begin
 *   question screen  progress ("Question 3 sur 10"), score, timer (the bar), prompt,
 *                    picture, flash, answer (the typed answer), cell-0, cell-1… (grid
 *                    cells), choice-0, choice-1… (choice and multi buttons), token-0…
 *                    (expression helpers), validate, keypad, key-0 … key-9, key-comma,
 *                    key-delete, feedback (aria-live; data-colour = green | orange | red |
 *                    blue), correction, next ("Suite")
 *   result screen    result-score, stars, result-time, first-attempt, time-up, replay,
 *                    continue ("Exercice suivant" or "Terminer")
 *   end screen       end-score, summary
 *   anywhere         error (a French message from the server), lost ("Connexion perdue"),
 *                    reconnecting (the rally page trying again while its server restarts)
 */

const REPLY_TIMEOUT_MS = 10000;
const RECONNECT_MS = 60000; // how long the rally page keeps trying through a server restart
const RETRY_MS = 500;
const PASSING_STATUSES = new Set([502, 503, 504]); // a proxy whose server is restarting
const NNBSP = "\u202f";
const LOST = `Connexion perdue${NNBSP}: recharge la page.`;
const RECONNECTING = `Connexion interrompue${NNBSP}: attends, la page réessaie toute seule…`;
const TYPED_KINDS = new Set(["number", "flash", "picture", "expression"]);

/** An element with properties and children; strings become text nodes, never HTML. */
function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "testid") node.dataset.testid = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function button(text, testid, onclick, className = "cq-button") {
  return h("button", { type: "button", class: className, testid, text, onclick });
}

/** A key that makes a retried request harmless; crypto.randomUUID needs HTTPS. */
function newKey() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * Anywidget transport: one custom message per request, the reply matched by its id.
 * Several views of one widget all hear every reply, hence ids unique to this view.
 */
export function widgetTransport(model, timeoutMs = REPLY_TIMEOUT_MS) {
  const prefix = newKey();
  const pending = new Map();
  let counter = 0;
  const onMessage = (content) => {
    const waiting = content && pending.get(content.id);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    pending.delete(content.id);
    waiting.resolve(content.reply);
  };
  model.on("msg:custom", onMessage);
  return {
    send(message) {
      const id = `${prefix}-${++counter}`;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error("no reply from the kernel"));
        }, timeoutMs);
        pending.set(id, { resolve, timer });
        model.send({ id, message });
      });
    },
    close() {
      model.off("msg:custom", onMessage);
      for (const waiting of pending.values()) clearTimeout(waiting.timer);
      pending.clear();
    },
  };
}

/**
 * HTTP transport for the rally page: POST the message as JSON, the reply is the body.
 * A request that fails on the way (no network, no reply within `timeoutMs`, or a proxy
 * answering 502, 503 or 504 while a server restarts) is sent again every half second,
 * for `patienceMs` in all: the answer's key makes a message sent twice harmless.
 * `send(message, onWait)` calls `onWait(true)` when it starts waiting, `onWait(false)`
 * when it stops.
 */
export function httpTransport(url, timeoutMs = REPLY_TIMEOUT_MS, patienceMs = RECONNECT_MS) {
  return {
    async send(message, onWait = () => {}) {
      const giveUp = Date.now() + patienceMs;
      let waiting = false;
      try {
        for (;;) {
          try {
            const response = await fetch(url, {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify(message),
              credentials: "same-origin",
              signal: AbortSignal.timeout(Math.max(1, Math.min(timeoutMs, giveUp - Date.now()))),
            });
            if (!response.ok) {
              const failure = new Error(`HTTP ${response.status}`);
              failure.passing = PASSING_STATUSES.has(response.status);
              throw failure;
            }
            return await response.json();
          } catch (error) {
            const passing =
              error instanceof TypeError || error.name === "TimeoutError" || error.passing;
            if (!passing || Date.now() + RETRY_MS >= giveUp) throw error;
            if (!waiting) onWait((waiting = true));
            await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          }
        }
      } finally {
        if (waiting) onWait(false);
      }
    },
    close() {},
  };
}

/**
 * Draw a player in `el`, talking through `transport` (`send(message)` -> Promise of reply).
 * `options.initial` is a reply to draw at once; without it the player asks for the state.
 * Returns `{ destroy() }`.
 */
export function createPlayer(el, transport, options = {}) {
  const uid = newKey();
  const banner = h("p", { class: "cq-banner", role: "alert", hidden: true });
  const content = h("div", { class: "cq-content" });
  const who = h("p", { class: "cq-who", testid: "who", hidden: true });
  const root = h("div", { class: "cq-player", tabindex: "-1" }, [who, banner, content]);
  el.append(root);

  let busy = false;
  let lost = false;
  let destroyed = false;
  let view = null; // the question on screen, kept while its feedback comes and goes
  let countdown = null;
  let flashTimer = null;
  // "Suite", "Exercice suivant" and "Commencer" without a round trip: the reply carries the
  // screen that follows (`then`); the page draws it at once and tells the server, with its
  // next message, how long ago (`suite`, in ms), so that the question's time starts then.
  let ahead = null;
  let aheadAt = 0;
  let suiteAt = null;

  function request(message) {
    if (busy || lost || destroyed) return;
    if (suiteAt !== null) {
      message = { ...message, suite: Math.round(performance.now() - suiteAt) };
      suiteAt = null;
    }
    busy = true;
    root.setAttribute("aria-busy", "true");
    transport.send(message, showWaiting).then(
      (reply) => {
        busy = false;
        root.removeAttribute("aria-busy");
        if (!destroyed) draw(reply);
      },
      () => {
        busy = false;
        root.removeAttribute("aria-busy");
        if (!destroyed) showLost();
      },
    );
  }

  function showLost() {
    lost = true;
    stopTimer();
    banner.textContent = LOST;
    banner.dataset.testid = "lost";
    banner.hidden = false;
    content.inert = true;
    root.classList.add("cq-is-lost");
  }

  function showWaiting(waiting) {
    if (lost || destroyed) return;
    if (waiting) {
      banner.textContent = RECONNECTING;
      banner.dataset.testid = "reconnecting";
      banner.hidden = false;
    } else if (banner.dataset.testid === "reconnecting") {
      banner.hidden = true;
    }
  }

  function showError(text) {
    if (lost) return;
    banner.textContent = text || "";
    banner.dataset.testid = "error";
    banner.hidden = !text;
  }

  function draw(reply) {
    if (!reply || typeof reply.screen !== "string") {
      showLost();
      return;
    }
    root.dataset.screen = reply.screen;
    ahead = reply.then || null;
    aheadAt = performance.now();
    showError(reply.error);
    showWho(reply.who);
    if (reply.screen === "join") {
      clearQuestion();
      if (!reply.error && rejoin()) return;
      content.replaceChildren(joinScreen(reply));
      const field = content.querySelector(`[data-testid="${reply.field || "code"}"]`);
      if (field) field.focus();
      return;
    }
    if (reply.screen === "question" || reply.screen === "feedback") {
      drawQuestion(reply);
      return;
    }
    clearQuestion();
    const screens = { title: titleScreen, result: resultScreen, end: endScreen };
    const screen = screens[reply.screen];
    content.replaceChildren(screen ? screen(reply) : h("p"));
    const primary = content.querySelector(".cq-primary");
    if (primary) primary.focus();
  }

  /** Draw the screen a button leads to from the reply's `then`, else ask the server. */
  function moveOn(message) {
    if (busy || lost || destroyed) return;
    if (!ahead) {
      request(message);
      return;
    }
    let following = ahead;
    const time = following.time;
    if (root.dataset.screen === "feedback" && time && time.exercise_ms !== undefined) {
      // The exercise's time ran on while the feedback was read.
      const left = Math.max(0, Math.round(time.exercise_ms - (performance.now() - aheadAt)));
      following = { ...following, time: { ...time, exercise_ms: left } };
    }
    suiteAt = performance.now();
    draw({ ...following, who: currentWho });
  }

  // ------------------------------------------------------------------ join (pupil page)

  // The code and names are kept for this tab only, so that a reload (or a kernel that was
  // stopped) puts the pupil back in the séance without typing them again.
  let rejoined = false;

  function rejoin() {
    if (rejoined) return false;
    rejoined = true;
    const saved = loadJoin();
    if (!saved) return false;
    request({ type: "join", code: saved.code, name: saved.name });
    return true;
  }

  function joinScreen(reply) {
    const saved = loadJoin() || {};
    const code = h("input", {
      id: `${uid}-code`, class: "cq-input", testid: "code", autocomplete: "off",
      autocapitalize: "characters", spellcheck: "false", maxlength: "12",
      value: saved.code || "",
    });
    const name = h("input", {
      id: `${uid}-name`, class: "cq-input", testid: "name", autocomplete: "off",
      maxlength: "40", value: saved.name || "",
    });
    const form = h("form", { class: "cq-join", novalidate: true }, [
      h("h2", { text: "Calcul mental" }),
      h("label", { for: `${uid}-code`, text: "Code de la séance" }),
      code,
      h("label", { for: `${uid}-name`, text: "Ton prénom (ou vos deux prénoms : Léa et Tom)" }),
      name,
      h("button", { type: "submit", class: "cq-button cq-primary", testid: "join",
                    text: "C'est parti !" }),
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveJoin({ code: code.value, name: name.value });
      request({ type: "join", code: code.value, name: name.value });
    });
    if (reply.error) {
      const wrong = reply.field === "name" ? name : code;
      wrong.setAttribute("aria-invalid", "true");
    }
    return form;
  }

  let currentWho = null;

  function showWho(identity) {
    currentWho = identity;
    if (!identity || !identity.name) {
      who.hidden = true;
      return;
    }
    const notMe = button("Ce n'est pas moi", "not-me", () => {
      saveJoin(null);
      window.location.reload();
    }, "cq-link");
    who.replaceChildren(
      document.createTextNode(`${identity.name} · ${identity.seance || ""} `), notMe,
    );
    who.hidden = false;
  }

  // ------------------------------------------------------------------ title, result, end

  function titleScreen(reply) {
    const exercise = reply.exercise;
    const attempts = exercise.attempts > 1 ? `${exercise.attempts} essais par question` : null;
    return h("section", { class: "cq-title" }, [
      exercise.count > 1
        ? h("p", {
            class: "cq-position",
            text: `Exercice ${exercise.number} sur ${exercise.count}`,
          })
        : null,
      h("h2", { testid: "exercise-title", text: exercise.title }),
      exercise.instructions
        ? h("p", { class: "cq-instructions", testid: "instructions", text: exercise.instructions })
        : null,
      h("ul", { class: "cq-facts" }, [
        h("li", { text: plural(exercise.questions, "question") }),
        attempts ? h("li", { text: attempts }) : null,
        h("li", { testid: "timing", text: exercise.timing }),
      ]),
      button("Commencer", "begin", () => moveOn({ type: "begin" }), "cq-button cq-primary"),
    ]);
  }

  function resultScreen(reply) {
    const stars = h("p", {
      class: "cq-stars",
      testid: "stars",
      role: "img",
      "aria-label": `${reply.stars} étoile${reply.stars > 1 ? "s" : ""} sur ${reply.stars_max}`,
    });
    for (let star = 0; star < reply.stars_max; star += 1) {
      const filled = star < reply.stars;
      const starClass = filled ? "cq-star cq-filled" : "cq-star";
      stars.append(h("span", { class: starClass, text: filled ? "★" : "☆" }));
    }
    const last = reply.has_next ? "Exercice suivant" : "Terminer";
    return h("section", { class: "cq-result" }, [
      h("h2", { text: reply.exercise.title }),
      reply.time_up
        ? h("p", { class: "cq-time-up", testid: "time-up", text: `Temps écoulé${NNBSP}!` })
        : null,
      h("p", { class: "cq-big", testid: "result-score", text: reply.score_text }),
      stars,
      h("p", { testid: "result-time", text: `Temps${NNBSP}: ${reply.duration_text}` }),
      reply.show_first_attempt_row
        ? h("p", {
            testid: "first-attempt",
            text:
              `Réussies du premier coup${NNBSP}: ` +
              `${reply.right_first_attempt} sur ${reply.total}`,
          })
        : null,
      h("div", { class: "cq-actions" }, [
        reply.replayable
          ? button("Recommencer", "replay", () => request({ type: "replay" }))
          : null,
        button(last, "continue", () => moveOn({ type: "continue" }), "cq-button cq-primary"),
      ]),
    ]);
  }

  function endScreen(reply) {
    const items = reply.summary.map((item) =>
      h("li", {}, [
        h("span", { text: item.title }),
        h("span", { class: "cq-score", text: item.score_text }),
      ]),
    );
    return h("section", { class: "cq-end" }, [
      h("h2", { text: "Séance terminée" }),
      h("p", { class: "cq-big", testid: "end-score", text: `Score${NNBSP}: ${reply.score_text}` }),
      h("ol", { class: "cq-summary", testid: "summary" }, items),
    ]);
  }

  // ------------------------------------------------------------------ question and feedback

  function drawQuestion(reply) {
    const exercise = reply.exercise;
    const key = `${exercise.position}/${exercise.play}/${reply.number}`;
    if (!view || view.key !== key) {
      clearQuestion();
      view = buildQuestion(reply, key);
      content.replaceChildren(view.section);
      if (reply.screen === "question") startFlash(reply.question);
    }
    view.progress.textContent = `Question ${reply.number} sur ${reply.total}`;
    view.score.textContent = `Score${NNBSP}: ${reply.score}`;
    startTimer(reply.time);
    // The same state again (a timer that ran a little ahead): leave the pupil's typing alone.
    const state = `${reply.screen}/${reply.feedback}/${reply.attempt}`;
    if (state === view.state) return;
    view.state = state;
    if (reply.screen === "question") {
      setFeedback(null);
      if (!view.flashing) setOpen(true);
    } else {
      setFeedback(reply);
    }
  }

  function buildQuestion(reply, key) {
    const question = reply.question;
    const built = { key, question, inputs: [], choices: [], picked: new Set(), flashing: false };
    built.progress = h("span", { class: "cq-progress", testid: "progress" });
    built.score = h("span", { class: "cq-score", testid: "score" });
    built.fill = h("div", { class: "cq-timer-fill" });
    built.timer = h(
      "div",
      { class: "cq-timer", testid: "timer", "aria-hidden": "true", hidden: true },
      [built.fill],
    );
    built.flash = h("p", { class: "cq-flash", testid: "flash", hidden: true });
    built.message = h("p", { class: "cq-message" });
    built.correction = h("p", { class: "cq-correction", testid: "correction", hidden: true });
    built.feedback = h("div", { class: "cq-feedback", testid: "feedback", "aria-live": "polite" }, [
      built.message,
      built.correction,
    ]);
    built.next = button("Suite", "next", () => moveOn({ type: "next" }), "cq-button cq-primary");
    built.next.hidden = true;
    built.form = h(
      "form",
      { class: "cq-answer", novalidate: true, onsubmit: onSubmit },
      answerArea(question, reply, built),
    );

    built.section = h("section", { class: "cq-question" }, [
      h("header", { class: "cq-header" }, [
        h("span", { class: "cq-exercise", text: reply.exercise.title }),
        built.progress,
        built.score,
      ]),
      built.timer,
      h("div", { class: "cq-statement" }, [
        h("p", { class: "cq-prompt", testid: "prompt", text: question.prompt }),
        question.svg ? picture(question.svg) : null,
        built.flash,
      ]),
      built.form,
      built.feedback,
      built.next,
    ]);
    return built;
  }

  function picture(svg) {
    const holder = h("div", { class: "cq-picture", testid: "picture" });
    // The SVG is drawn by our Python (trusted); parsed as SVG, so no HTML script runs.
    const parsed = new DOMParser().parseFromString(svg, "image/svg+xml");
    if (!parsed.querySelector("parsererror")) {
      holder.append(document.importNode(parsed.documentElement, true));
    }
    return holder;
  }

  function answerArea(question, reply, built) {
    const parts = [];
    if (question.kind === "choice" || question.kind === "multi") {
      parts.push(choiceButtons(question, built));
    } else if (question.kind === "grid") {
      parts.push(gridInputs(question, built));
    } else {
      parts.push(typedInput(question, reply.keypad, built));
      const layout = question.layout;
      if (question.kind === "expression" && layout && layout.type === "mathador") {
        parts.push(tokenButtons(layout, built));
      }
    }
    if (question.kind === "choice") return parts;
    if (reply.keypad && question.kind !== "multi") {
      parts.push(keypad(built));
    } else {
      built.validate = validateButton("cq-button cq-primary");
      parts.push(built.validate);
    }
    return parts;
  }

  function typedInput(question, withKeypad, built) {
    const id = `${uid}-answer`;
    const expression = question.kind === "expression";
    const input = h("input", {
      id,
      type: "text",
      class: "cq-input",
      testid: "answer",
      // The on-screen keypad replaces the tablet's keyboard, which would hide the question.
      inputmode: withKeypad ? "none" : expression ? "text" : "decimal",
      maxlength: question.max_length || 12,
      autocomplete: "off",
      autocapitalize: "off",
      spellcheck: "false",
    });
    track(input, built);
    return h("div", { class: "cq-field" }, [
      h("label", { for: id, class: "cq-label", text: expression ? "Ton calcul" : "Ta réponse" }),
      input,
    ]);
  }

  function tokenButtons(layout, built) {
    const tokens = [...layout.numbers.map(String), ...layout.signs, "(", ")"];
    const keys = tokens.map((token, index) => {
      // Signs get spaces around them, as the calculation is read back to the pupil.
      const text = layout.signs.includes(token) ? ` ${token} ` : token;
      return button(token, `token-${index}`, () => typeInto(built, text), "cq-key");
    });
    for (const key of keys) key.addEventListener("mousedown", (event) => event.preventDefault());
    const label = "Nombres et opérations";
    return h("div", { class: "cq-tokens", role: "group", "aria-label": label }, keys);
  }

  function choiceButtons(question, built) {
    const multi = question.kind === "multi";
    const group = h("div", {
      class: "cq-choices",
      role: "group",
      "aria-label": multi ? "Choisis toutes les bonnes réponses" : "Choisis la bonne réponse",
    });
    question.choices.forEach((choice, index) => {
      const choose = multi
        ? () => {
            if (built.picked.has(index)) built.picked.delete(index);
            else built.picked.add(index);
            chosen.setAttribute("aria-pressed", String(built.picked.has(index)));
          }
        : () => {
            built.lastChoice = index;
            request({ type: "answer", response: index, key: newKey() });
          };
      const chosen = button(choice, `choice-${index}`, choose, "cq-choice");
      if (multi) chosen.setAttribute("aria-pressed", "false");
      built.choices.push(chosen);
      group.append(chosen);
    });
    return group;
  }

  function gridInputs(question, built) {
    const cells = question.cells || [];
    const makeCell = (index) => {
      const input = h("input", {
        type: "text",
        class: "cq-input cq-cell",
        testid: `cell-${index}`,
        inputmode: "decimal",
        maxlength: question.max_length || 12,
        autocomplete: "off",
        "aria-label": cells[index] || `case ${index + 1}`,
      });
      track(input, built);
      return input;
    };
    const layout = question.layout;
    if (layout && layout.type === "wall" && Array.isArray(layout.rows)) {
      // Hidden bricks are the cells, in reading order: top row first, left to right.
      let next = 0;
      const rows = layout.rows.map((row) =>
        h(
          "div",
          { class: "cq-wall-row" },
          row.map((value) =>
            value === null
              ? makeCell(next++)
              : h("span", { class: "cq-brick", text: String(value) }),
          ),
        ),
      );
      return h("div", { class: "cq-wall", role: "group", "aria-label": "Mur de briques" }, rows);
    }
    return h(
      "div",
      { class: "cq-grid" },
      cells.map((label, index) => {
        const id = `${uid}-cell-${index}`;
        const input = makeCell(index);
        input.id = id;
        input.removeAttribute("aria-label");
        return h("div", { class: "cq-field" }, [
          h("label", { for: id, class: "cq-label", text: label }),
          input,
        ]);
      }),
    );
  }

  function keypad(built) {
    const keys = ["7", "8", "9", "4", "5", "6", "1", "2", "3", ",", "0"].map((digit) =>
      button(
        digit,
        digit === "," ? "key-comma" : `key-${digit}`,
        () => typeInto(built, digit),
        "cq-key",
      ),
    );
    const erase = button("⌫", "key-delete", () => eraseFrom(built), "cq-key");
    erase.setAttribute("aria-label", "Effacer");
    keys.push(erase);
    // Keep the focus (and the caret) in the answer box while keys are pressed.
    for (const key of keys) key.addEventListener("mousedown", (event) => event.preventDefault());
    built.validate = validateButton("cq-button cq-primary cq-key-validate");
    return h("div", { class: "cq-keypad", testid: "keypad" }, [...keys, built.validate]);
  }

  function track(input, built) {
    built.inputs.push(input);
    input.addEventListener("focus", () => {
      built.lastFocused = input;
    });
  }

  function validateButton(className) {
    return h("button", { type: "submit", class: className, testid: "validate", text: "Valider" });
  }

  function targetInput(built) {
    const focused = built.inputs.find((input) => input === document.activeElement);
    return focused || built.lastFocused || built.inputs[0];
  }

  function typeInto(built, text) {
    const input = targetInput(built);
    if (!input || input.readOnly) return;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    const length = input.value.length - (end - start) + text.length;
    if (input.maxLength > 0 && length > input.maxLength) return;
    input.setRangeText(text, start, end, "end");
    input.focus();
  }

  function eraseFrom(built) {
    const input = targetInput(built);
    if (!input || input.readOnly) return;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    if (start === end && start > 0) input.setRangeText("", start - 1, end, "end");
    else input.setRangeText("", start, end, "end");
    input.focus();
  }

  function onSubmit(event) {
    event.preventDefault();
    if (!view || !view.open) return;
    request({ type: "answer", response: currentResponse(), key: newKey() });
  }

  /** What the answer area holds, as the server reads it. */
  function currentResponse() {
    if (!view) return null;
    const kind = view.question.kind;
    if (kind === "choice") return null;
    if (kind === "multi") return [...view.picked].sort((a, b) => a - b);
    if (kind === "grid") return view.inputs.map((input) => input.value);
    return view.inputs[0] ? view.inputs[0].value : null;
  }

  function startFlash(question) {
    if (!question.flash_text || !(question.flash_seconds > 0)) return;
    view.flashing = true;
    view.flash.textContent = question.flash_text;
    view.flash.hidden = false;
    view.form.hidden = true;
    const shown = view;
    flashTimer = setTimeout(() => {
      shown.flashing = false;
      shown.flash.hidden = true;
      shown.flash.textContent = "";
      shown.form.hidden = false;
      if (view === shown && shown.open !== false) setOpen(true);
    }, question.flash_seconds * 1000);
  }

  function setOpen(open) {
    view.open = open;
    view.section.classList.toggle("cq-locked", !open);
    for (const input of view.inputs) input.readOnly = !open;
    for (const chosen of view.choices) {
      chosen.disabled = !open || chosen.classList.contains("cq-wrong");
    }
    for (const control of view.form.querySelectorAll(".cq-key, .cq-button")) {
      control.disabled = !open;
    }
    view.next.hidden = open;
    if (open && !view.flashing) {
      const first =
        view.inputs.find((input) => !input.value) ||
        view.inputs[0] ||
        view.choices.find((chosen) => !chosen.disabled);
      if (first) first.focus();
    }
  }

  function setFeedback(reply) {
    if (!reply) {
      view.feedback.removeAttribute("data-colour");
      view.section.removeAttribute("data-colour");
      view.message.textContent = "";
      view.correction.hidden = true;
      return;
    }
    view.feedback.dataset.colour = reply.colour;
    view.section.dataset.colour = reply.colour;
    view.message.textContent = reply.message;
    view.correction.textContent = reply.correction || "";
    view.correction.hidden = !reply.correction;
    if (reply.question_done) {
      view.flashing = false;
      view.flash.hidden = true;
      view.form.hidden = false;
      setOpen(false);
      view.next.focus();
      return;
    }
    if (reply.feedback === "retry" && view.lastChoice !== undefined) {
      view.choices[view.lastChoice].classList.add("cq-wrong");
    }
    setOpen(true);
    // Orange: the wrong answer stays, selected, so that typing replaces it.
    if (reply.feedback === "retry" && TYPED_KINDS.has(view.question.kind) && view.inputs[0]) {
      view.inputs[0].select();
    }
  }

  function clearQuestion() {
    stopTimer();
    clearTimeout(flashTimer);
    view = null;
  }

  // ------------------------------------------------------------------ timer

  function startTimer(time) {
    stopTimer();
    if (!view) return;
    const left = time ? (time.question_ms ?? time.exercise_ms) : null;
    if (left === null || left === undefined) {
      view.timer.hidden = true;
      return;
    }
    const limit = time.limit_ms > 0 ? time.limit_ms : Math.max(left, 1);
    view.timer.hidden = false;
    view.timer.dataset.remaining = String(left);
    const fill = view.fill;
    fill.style.transition = "none";
    fill.style.transform = `scaleX(${Math.min(1, left / limit)})`;
    // Read the layout so that the transition starts from the width just set.
    fill.getBoundingClientRect();
    fill.style.transition = `transform ${left}ms linear`;
    fill.style.transform = "scaleX(0)";
    countdown = setTimeout(() => {
      countdown = null;
      request({ type: "timeout", response: view && view.open ? currentResponse() : null });
    }, left);
  }

  function stopTimer() {
    if (countdown !== null) clearTimeout(countdown);
    countdown = null;
  }

  // ------------------------------------------------------------------ keys and start

  root.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.defaultPrevented) return;
    const target = event.target;
    // Buttons press themselves and a form's inputs submit it: only the rest is handled here.
    if (target instanceof HTMLButtonElement || target instanceof HTMLInputElement) return;
    const shown = (node) => !node.hidden && !node.disabled && node.offsetParent !== null;
    const primary = [...content.querySelectorAll(".cq-primary")].find(shown);
    if (primary) {
      event.preventDefault();
      primary.click();
    }
  });

  if (options.initial && options.initial.screen) draw(options.initial);
  else request({ type: "state" });

  return {
    destroy() {
      destroyed = true;
      clearQuestion();
      root.remove();
    },
  };
}

const JOIN_KEY = "calculatice-join";

function loadJoin() {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(JOIN_KEY) || "null");
    return saved && typeof saved.code === "string" && typeof saved.name === "string"
      ? saved
      : null;
  } catch {
    return null;
  }
}

function saveJoin(value) {
  try {
    if (value) window.sessionStorage.setItem(JOIN_KEY, JSON.stringify(value));
    else window.sessionStorage.removeItem(JOIN_KEY);
  } catch {
    // Storage refused (private mode): the pupil types the code again after a reload.
  }
}

function plural(count, word) {
  return `${count} ${word}${count > 1 ? "s" : ""}`;
}

// Views of one widget model already drawn: only the first uses the state sent with the
// widget; a later view asks for the current state, which may have moved on.
const drawnModels = new WeakSet();

export default {
  render({ model, el }) {
    const transport = widgetTransport(model);
    const initial = drawnModels.has(model) ? null : model.get("_initial");
    drawnModels.add(model);
    const player = createPlayer(el, transport, { initial });
    return () => {
      player.destroy();
      transport.close();
    };
  },
};
