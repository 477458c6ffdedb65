// Working without a connection. The service worker (/sw.js) keeps the assessment pages; this
// script keeps what the advisor changes while offline in IndexedDB, shows how much waits to be
// sent, sends it in order through the API when the connection returns, keeps answers a colleague
// saved meanwhile aside to be resolved side by side, and empties the store on sign-out.
//
// The store holds two kinds of record, both tagged with the signed-in user's id:
// - answers, one per question: status "waiting" (to be sent), "conflict" (a colleague saved the
//   answer meanwhile; "theirs" holds their answer), "refused" (the server said why, in "error"), or
//   "saved" (the server's latest answer, which corrects a page kept before it was saved);
// - files: photos and PDFs waiting to be uploaded, with their bytes.
(function () {
  "use strict";

  const USER = document.body.dataset.user;
  const textsBlock = document.getElementById("offline-texts");
  if (!USER || !textsBlock || !("indexedDB" in window)) {
    return;
  }
  const TEXTS = JSON.parse(textsBlock.dataset.texts);
  const ACCEPTED = ["image/jpeg", "image/png", "image/webp", "application/pdf"];
  const RETRY_EVERY_MS = 30000;

  function say(key, values) {
    return TEXTS[key].replace(/\{(\w+)\}/g, (match, name) => (values && name in values ? values[name] : match));
  }

  // ---- The store -------------------------------------------------------------------------------

  const DB_NAME = "betterwork-offline";
  let opening = null;

  function openStore() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => {
          request.result.createObjectStore("answers", { keyPath: "key" });
          request.result.createObjectStore("files", { keyPath: "id", autoIncrement: true });
        };
        request.onsuccess = () => {
          // Another tab deleting the store (signing out) must not wait for this one.
          request.result.onversionchange = () => { request.result.close(); opening = null; };
          resolve(request.result);
        };
        request.onerror = () => { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  async function inStore(name, mode, work) {
    const db = await openStore();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(name, mode);
      const request = work(transaction.objectStore(name));
      transaction.oncomplete = () => resolve(request && request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  const all = (name) => inStore(name, "readonly", (store) => store.getAll());
  const get = (name, key) => inStore(name, "readonly", (store) => store.get(key));
  const put = (name, record) => inStore(name, "readwrite", (store) => store.put(record));
  const remove = (name, key) => inStore(name, "readwrite", (store) => store.delete(key));

  const mine = (record) => record.user === USER;
  const unsent = (record) => record.status !== "saved";
  const inOrder = (a, b) => a.seq - b.seq;
  let lastSeq = 0;
  function nextSeq() {
    lastSeq = Math.max(Date.now(), lastSeq + 1);
    return lastSeq;
  }

  // Writes still in progress: leaving the page now would lose them.
  let writing = 0;
  function track(promise) {
    writing += 1;
    return promise.finally(() => { writing -= 1; });
  }
  window.addEventListener("beforeunload", (event) => {
    if (writing > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ---- The page ---------------------------------------------------------------------------------

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => {
      if (name === "text") { node.textContent = value; } else if (value !== null && value !== undefined) { node.setAttribute(name, value); }
    });
    children.flat().forEach((child) => { if (child) { node.append(child); } });
    return node;
  }

  // The assessment form on this page, when the user may answer it.
  const formRoot = document.querySelector(".js-offline-form");
  const page = formRoot && {
    programme: formRoot.dataset.programme,
    assessment: Number(formRoot.dataset.assessment),
    answersApi: formRoot.dataset.answersApi,
    attachmentsApi: formRoot.dataset.attachmentsApi,
    offlinePage: formRoot.dataset.offlinePage,
    overview: formRoot.dataset.overview,
    fileMaxBytes: Number(formRoot.dataset.fileMaxBytes),
    queueMaxBytes: Number(formRoot.dataset.queueMaxBytes),
  };
  const pending = new Map(); // question id → its unsent record, on this page

  const questionOf = (form) => Number(form.id.replace("question-", ""));
  const questionForm = (question) => document.getElementById("question-" + question);
  const field = (form, name) => form.querySelectorAll(`[name="q${questionOf(form)}-${name}"]`);

  function readForm(form) {
    const value = [...field(form, "value")].find((radio) => radio.checked);
    return {
      value: value ? value.value : "",
      valueLabel: value ? value.closest("label").textContent.trim() : "",
      finding: field(form, "finding")[0].value,
      evidence: [...field(form, "evidence")].filter((box) => box.checked).map((box) => box.value),
    };
  }

  function writeForm(form, answer) {
    field(form, "value").forEach((radio) => { radio.checked = radio.value === answer.value; });
    field(form, "finding")[0].value = answer.finding;
    field(form, "evidence").forEach((box) => { box.checked = answer.evidence.includes(box.value); });
  }

  const formVersion = (form) => Number(field(form, "version")[0].value || 0);
  const setFormVersion = (form, version) => { field(form, "version")[0].value = version; };

  function showQuestionState(form, record) {
    const state = document.getElementById("state-" + questionOf(form));
    if (!state) { return; }
    let note = state.querySelector(".save-state__offline");
    if (!note) {
      note = el("span", { class: "save-state__offline" });
      state.prepend(note);
    }
    state.classList.toggle("save-state--offline", record.status !== "saved");
    note.replaceChildren();
    note.dataset.status = record.status;
    if (record.status === "waiting") {
      note.textContent = say("state_waiting");
    } else if (record.status === "conflict") {
      note.append(el("a", { href: record.offlinePage, text: say("state_conflict") }));
    } else if (record.status === "refused") {
      note.append(el("a", { href: record.offlinePage, text: say("state_refused", { error: record.error }) }));
    } else {
      note.textContent = say("state_sent");
    }
  }

  // A change made offline (or whose save never reached the server) is kept with the version it
  // was made on; later changes to the same question update it, keeping that first version.
  async function keepChange(form) {
    const question = questionOf(form);
    const key = `${USER}:${page.assessment}:${question}`;
    const known = await get("answers", key);
    const record = known && unsent(known) ? known : {
      key,
      user: USER,
      programme: page.programme,
      assessment: page.assessment,
      question,
      version: formVersion(form),
      seq: nextSeq(),
      status: "waiting",
      theirs: null,
      error: "",
    };
    const legend = form.querySelector("legend");
    const keyText = legend.querySelector(".question__key").textContent;
    Object.assign(record, readForm(form), {
      questionKey: keyText,
      questionText: legend.textContent.replace(keyText, "").trim(),
      page: `${location.pathname}#question-${question}`,
      answersApi: page.answersApi,
      offlinePage: page.offlinePage,
    });
    if (record.status === "refused") {
      record.status = "waiting";
      record.error = "";
    }
    try {
      await put("answers", record);
    } catch (error) {
      showStoreError(form, error);
      return;
    }
    form.classList.remove("is-dirty");
    pending.set(question, record);
    showQuestionState(form, record);
    keepForLater();
    refresh();
  }

  // After each save that reached the server, its version and values are remembered, so that a
  // page kept before that save shows them when it is opened offline.
  async function rememberSaved(form) {
    const question = questionOf(form);
    await put("answers", {
      key: `${USER}:${page.assessment}:${question}`,
      user: USER,
      assessment: page.assessment,
      question,
      version: formVersion(form),
      seq: nextSeq(),
      status: "saved",
      ...readForm(form),
    });
  }

  // The kept changes of this assessment, shown on its form when the page opens.
  async function applyKeptChanges() {
    const records = (await all("answers")).filter((r) => mine(r) && r.assessment === page.assessment);
    for (const record of records) {
      const form = questionForm(record.question);
      if (!form) { continue; }
      if (record.status === "saved") {
        if (formVersion(form) >= record.version) {
          await remove("answers", record.key); // the page is as fresh as what was remembered
        } else {
          writeForm(form, record);
          setFormVersion(form, record.version);
        }
        continue;
      }
      writeForm(form, record);
      pending.set(record.question, record);
      showQuestionState(form, record);
    }
  }

  function showStoreError(form, error) {
    const box = document.getElementById("errors-" + questionOf(form));
    if (box) {
      box.replaceChildren(el("ul", { class: "errorlist", role: "alert" }, el("li", { text: say("not_kept", { error: error.message || error.name }) })));
    }
  }

  if (page) {
    // Offline, or while this question has changes waiting, a change goes to the store, not the server.
    document.addEventListener("htmx:beforeRequest", (event) => {
      const form = event.detail.elt;
      if (!form.matches || !form.matches("form.js-autosave")) { return; }
      if (!navigator.onLine || pending.has(questionOf(form))) {
        event.preventDefault();
        track(keepChange(form));
      }
    });
    // The connection dropped during the save, or hung: the change is kept and sent again (had it
    // reached the server after all, the server's answer is found equal to it and nothing is asked).
    ["htmx:sendError", "htmx:timeout"].forEach((name) => document.addEventListener(name, (event) => {
      const form = event.detail.elt;
      if (form.matches && form.matches("form.js-autosave")) { track(keepChange(form)); }
    }));
    document.addEventListener("htmx:afterRequest", (event) => {
      const form = event.detail.elt;
      if (form.matches && form.matches("form.js-autosave") && event.detail.xhr && event.detail.xhr.status === 200) {
        track(rememberSaved(form));
      }
    });
  }

  // ---- Photos and PDFs --------------------------------------------------------------------------

  function fileError(form, text) {
    let box = form.querySelector(".attachments__error");
    if (!box) {
      box = el("p", { class: "attachments__error", role: "alert" });
      form.append(box);
    }
    box.textContent = text;
    box.hidden = !text;
  }

  // Every upload is kept first and sent from the store, so a connection that drops midway loses nothing.
  async function keepFile(form) {
    const input = form.querySelector("input[type=file]");
    const file = input.files[0];
    if (!file) { return fileError(form, say("file_choose")); }
    if (file.size > page.fileMaxBytes) { return fileError(form, say("file_too_big")); }
    if (!ACCEPTED.includes(file.type)) { return fileError(form, say("file_type")); }
    const queued = (await all("files")).filter(mine).reduce((sum, kept) => sum + kept.size, 0);
    if (queued + file.size > page.queueMaxBytes) {
      return fileError(form, say("queue_full", { size: Math.round(page.queueMaxBytes / 1048576) }));
    }
    const question = Number(form.dataset.question);
    const formOfQuestion = questionForm(question);
    try {
      await put("files", {
        user: USER,
        programme: page.programme,
        assessment: page.assessment,
        question,
        questionKey: formOfQuestion ? formOfQuestion.querySelector(".question__key").textContent : "",
        name: file.name,
        type: file.type,
        size: file.size,
        blob: file,
        seq: nextSeq(),
        status: "waiting",
        error: "",
        attachmentsApi: page.attachmentsApi,
        offlinePage: page.offlinePage,
        page: `${location.pathname}#question-${question}`,
      });
    } catch (error) {
      return fileError(form, error.name === "QuotaExceededError" ? say("storage_full") : say("not_kept", { error: error.message }));
    }
    input.value = "";
    fileError(form, "");
    keepForLater();
    await showQueuedFiles();
    refresh();
  }

  function megabytes(bytes) {
    const number = (value) => value.toLocaleString(document.documentElement.lang, { maximumFractionDigits: 1 });
    return bytes < 1048576 ? `${number(Math.max(1, Math.round(bytes / 1024)))} KB` : `${number(bytes / 1048576)} MB`;
  }

  async function showQueuedFiles() {
    if (!page) { return; }
    const files = (await all("files")).filter((f) => mine(f) && f.assessment === page.assessment);
    document.querySelectorAll(".attachments__queue").forEach((list) => list.remove());
    files.sort(inOrder).forEach((file) => {
      const block = document.getElementById("attachments-" + file.question);
      if (!block) { return; }
      let list = block.querySelector(".attachments__queue");
      if (!list) {
        list = el("ul", { class: "attachments__queue" });
        block.querySelector(".attachments__list").after(list);
      }
      const discard = el("button", { type: "button", class: "button--small button--secondary", text: say("file_remove") });
      discard.addEventListener("click", () => remove("files", file.id).then(showQueuedFiles).then(() => refresh()));
      list.append(el("li", { "data-status": file.status },
        el("span", { text: file.name }), " ",
        el("span", { class: "muted", text: `${megabytes(file.size)} · ${file.status === "refused" ? file.error : say("file_waiting")}` }), " ",
        discard));
    });
  }

  function showSentFile(file, attachment) {
    const block = document.getElementById("attachments-" + file.question);
    if (!block || !page || file.assessment !== page.assessment) { return; }
    const list = block.querySelector(".attachments__list");
    list.hidden = false;
    list.append(el("li", {},
      el("a", { href: `${page.overview}attachments/${attachment.id}/`, text: attachment.original_name }), " ",
      el("span", { class: "muted", text: megabytes(attachment.size) })));
  }

  // ---- Sending ----------------------------------------------------------------------------------

  let token = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  let sessionEnded = false;

  // A page kept for days may carry a token the server has since replaced: take today's.
  async function renewToken() {
    try {
      const html = await (await fetch(location.pathname, { cache: "no-store", credentials: "same-origin" })).text();
      const found = html.match(/name="csrfmiddlewaretoken" value="([^"]+)"/);
      if (found) { token = found[1]; }
      return Boolean(found);
    } catch (error) {
      return false;
    }
  }

  async function post(url, body, type) {
    const send = () => fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json", ...(type ? { "Content-Type": type } : {}) },
    });
    let response = await send();
    if (response.status === 403) {
      const detail = (await response.clone().json().catch(() => ({}))).detail || "";
      if (/CSRF/i.test(detail) && (await renewToken())) { response = await send(); }
    }
    return response;
  }

  // The server's reasons, flattened to one line ({"answers": [{"finding": ["…"]}]} and the like).
  function reasons(body) {
    const found = [];
    (function walk(value) {
      if (typeof value === "string") { found.push(value); } else if (value && typeof value === "object") { Object.values(value).forEach(walk); }
    })(body);
    return found.join(" ") || String(body);
  }

  function sameAnswer(a, b) {
    const evidence = (answer) => [...(answer.evidence || [])].sort().join(",");
    return a.value === b.value && a.finding === b.finding && evidence(a) === evidence(b);
  }

  async function markSaved(record, answer) {
    Object.assign(record, {
      status: "saved",
      version: answer.version,
      value: answer.value,
      finding: answer.finding,
      evidence: answer.evidence || [],
      theirs: null,
      error: "",
    });
    await put("answers", record);
    const form = page && record.assessment === page.assessment && questionForm(record.question);
    if (form) {
      pending.delete(record.question);
      setFormVersion(form, answer.version);
      showQuestionState(form, record);
    }
  }

  async function markRecord(record, changes) {
    Object.assign(record, changes);
    await put("answers", record);
    const form = page && record.assessment === page.assessment && questionForm(record.question);
    if (form) { showQuestionState(form, record); }
  }

  // Sends one assessment's waiting answers in one request. A stale answer refuses the whole
  // request (409, with the saved answers): those are set aside and the rest sent again. False
  // stops the sending (no connection, the session ended, the server is unwell): try later.
  async function sendAnswers(api, records) {
    let batch = records;
    while (batch.length) {
      let response;
      try {
        response = await post(api, JSON.stringify({
          answers: batch.map((r) => ({ question: r.question, value: r.value, finding: r.finding, evidence: r.evidence, version: r.version })),
        }), "application/json");
      } catch (error) {
        return false;
      }
      if (response.ok) {
        const saved = new Map((await response.json()).map((answer) => [answer.question, answer]));
        for (const record of batch) { await markSaved(record, saved.get(record.question) || record); }
        return true;
      }
      if (response.status === 409) {
        const theirs = new Map(((await response.json()).conflicts || []).map((answer) => [answer.question, answer]));
        const rest = batch.filter((record) => !theirs.has(record.question));
        if (rest.length === batch.length) {
          // Stale, but its answer is gone (a colleague's answer was withdrawn): show it as refused.
          for (const record of batch) { await markRecord(record, { status: "refused", error: say("state_conflict") }); }
          return true;
        }
        for (const record of batch) {
          const saved = theirs.get(record.question);
          if (saved && sameAnswer(record, saved)) {
            await markSaved(record, saved); // what is kept is already what the server holds
          } else if (saved) {
            await markRecord(record, { status: "conflict", theirs: saved });
          }
        }
        batch = rest;
        continue;
      }
      if (response.status === 400 && batch.length > 1) {
        // One of them is refused: send them one by one to learn which.
        for (const record of batch) {
          if (!(await sendAnswers(api, [record]))) { return false; }
        }
        return true;
      }
      if (response.status === 400 || response.status === 404) {
        const error = reasons(await response.json().catch(() => response.statusText));
        for (const record of batch) { await markRecord(record, { status: "refused", error }); }
        return true;
      }
      sessionEnded = response.status === 401 || response.status === 403;
      return false;
    }
    return true;
  }

  async function sendFile(file) {
    const data = new FormData();
    data.append("file", file.blob, file.name);
    if (file.question) { data.append("question", file.question); }
    let response;
    try {
      response = await post(file.attachmentsApi, data);
    } catch (error) {
      return false;
    }
    if (response.status === 201) {
      const attachment = await response.json();
      await remove("files", file.id);
      showSentFile(file, attachment);
      return true;
    }
    if ([400, 404, 413, 415].includes(response.status)) {
      file.status = "refused";
      file.error = reasons(await response.json().catch(() => response.statusText));
      await put("files", file);
      return true;
    }
    sessionEnded = response.status === 401 || response.status === 403;
    return false;
  }

  let sending = null;
  let justSent = false;

  function send() {
    if (!sending) {
      sending = sendAll().finally(() => {
        sending = null;
        showQueuedFiles();
        refresh(false);
      });
      refresh(false);
    }
    return sending;
  }

  async function sendAll() {
    if (!navigator.onLine) { return; }
    sessionEnded = false;
    const answers = (await all("answers")).filter((r) => mine(r) && r.status === "waiting").sort(inOrder);
    const byAssessment = new Map();
    answers.forEach((record) => {
      if (!byAssessment.has(record.answersApi)) { byAssessment.set(record.answersApi, []); }
      byAssessment.get(record.answersApi).push(record);
    });
    for (const [api, records] of byAssessment) {
      if (!(await sendAnswers(api, records))) { return; }
    }
    const files = (await all("files")).filter((f) => mine(f) && f.status === "waiting").sort(inOrder);
    for (const file of files) {
      if (!(await sendFile(file))) { return; }
    }
    justSent = answers.length + files.length > 0;
  }

  // ---- The banner -------------------------------------------------------------------------------

  const banner = document.getElementById("offline-banner");

  async function counts() {
    const answers = await all("answers");
    const files = await all("files");
    const kept = [...answers.filter((r) => mine(r) && unsent(r)), ...files.filter(mine)];
    return {
      kept,
      waiting: kept.filter((r) => r.status === "waiting").length,
      conflicts: kept.filter((r) => r.status === "conflict").length,
      refused: kept.filter((r) => r.status === "refused").length,
      others: answers.filter((r) => !mine(r) && unsent(r)).length + files.filter((f) => !mine(f)).length,
    };
  }

  async function refresh(sendNow = true) {
    let state;
    try {
      state = await counts();
    } catch (error) {
      return;
    }
    const lines = [];
    if (!navigator.onLine) { lines.push(say("offline")); }
    if (state.waiting) { lines.push(sending ? say("sending") : say("waiting", { n: state.waiting })); }
    if (state.conflicts) { lines.push(say("conflicts", { n: state.conflicts })); }
    if (state.refused) { lines.push(say("refused", { n: state.refused })); }
    if (state.waiting && sessionEnded) { lines.push(say("signin")); }
    if (!state.kept.length && justSent && navigator.onLine) { lines.push(say("sent")); }
    if (state.others) { lines.push(say("others", { n: state.others })); }
    if (banner) {
      banner.replaceChildren(...lines.map((line) => el("span", { class: "offline-banner__line", text: line })));
      const attention = state.kept.find((r) => r.status !== "waiting") || state.kept[0];
      const here = location.pathname === (attention && attention.offlinePage);
      if (attention && !here) {
        banner.append(el("a", { href: attention.offlinePage, text: say("review") }));
      }
      banner.classList.toggle("offline-banner--attention", Boolean(state.conflicts || state.refused));
      banner.hidden = lines.length === 0;
      banner.dataset.waiting = state.waiting;
    }
    document.dispatchEvent(new CustomEvent("offline:changed"));
    if (sendNow && state.waiting && navigator.onLine && !sending) { send(); }
  }

  window.addEventListener("online", () => refresh());
  window.addEventListener("offline", () => refresh(false));
  // The browser may think it is online while requests fail: try again now and then.
  setInterval(() => refresh(), RETRY_EVERY_MS);

  // ---- Keeping the pages ------------------------------------------------------------------------

  function keepForLater() {
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().catch(() => {});
    }
  }

  async function keepAssessmentPages(registration) {
    const urls = [page.overview, page.offlinePage, formRoot.dataset.toolPage, ...[...document.querySelectorAll(".cluster-nav a[href]")].map((a) => a.getAttribute("href"))];
    const worker = registration.active || (await navigator.serviceWorker.ready).active;
    const channel = new MessageChannel();
    const done = new Promise((resolve) => { channel.port1.onmessage = (event) => resolve(event.data); });
    worker.postMessage({ type: "keep", urls }, [channel.port2]);
    await done;
    document.documentElement.dataset.offlineReady = "true";
  }

  // The worker is installed from the form an advisor may answer: that is what must open offline.
  if (page && navigator.onLine && "serviceWorker" in navigator && document.body.dataset.serviceWorker) {
    navigator.serviceWorker.register(document.body.dataset.serviceWorker, { scope: "/" })
      .then(() => navigator.serviceWorker.ready)
      .then(keepAssessmentPages)
      .catch(() => {});
  }

  // ---- The page of kept changes -----------------------------------------------------------------

  const changesRoot = document.querySelector(".js-offline-changes");
  const labelsBlock = document.getElementById("offline-labels");
  const labels = labelsBlock ? JSON.parse(labelsBlock.dataset.labels) : { values: {}, evidence: {} };

  function answerList(answer) {
    return el("dl", { class: "definition-list" },
      el("dt", { text: say("answer") }), el("dd", { text: labels.values[answer.value] || "—" }),
      el("dt", { text: say("finding") }), el("dd", { text: answer.finding || "—" }),
      el("dt", { text: say("evidence") }), el("dd", { text: (answer.evidence || []).map((e) => labels.evidence[e] || e).join(", ") || "—" }));
  }

  function button(text, action, kind) {
    const node = el("button", { type: "button", class: `button button--small ${kind || ""}`.trim(), text });
    node.addEventListener("click", () => { node.disabled = true; track(action()).then(() => refresh()); });
    return node;
  }

  function questionHeading(record) {
    return el("h3", {}, el("span", { class: "question__key", text: record.questionKey || "" }), " ", record.questionText || "");
  }

  function conflictView(record) {
    const theirs = record.theirs;
    return el("article", { class: "conflict-pair", "data-question": record.question },
      questionHeading(record),
      el("div", { class: "conflict-pair__sides" },
        el("section", { class: "conflict-pair__side" }, el("h4", { text: say("yours") }), answerList(record),
          button(say("keep_mine"), () => markRecord(record, { status: "waiting", version: theirs.version, theirs: null }))),
        el("section", { class: "conflict-pair__side" },
          el("h4", { text: say("theirs", { who: theirs.updated_by || say("a_colleague"), version: theirs.version }) }), answerList(theirs),
          button(say("keep_theirs"), () => markRecord(record, { status: "saved", ...theirs, theirs: null }), "button--secondary"))),
      el("p", {}, el("a", { href: record.page, text: say("open_question") })));
  }

  function answerText(record) {
    const value = labels.values[record.value] || record.valueLabel || record.value || "—";
    return record.finding ? `${value} — ${record.finding}` : value;
  }

  function keptRow(record) {
    const isFile = "blob" in record;
    const discard = button(say("discard"), () => (isFile ? remove("files", record.id) : remove("answers", record.key)), "button--secondary");
    const what = isFile
      ? `${say("photo")}: ${record.name} (${megabytes(record.size)})`
      : answerText(record);
    return el("li", { class: "kept-change", "data-question": record.question },
      el("strong", { text: record.questionKey || "" }), " ", el("span", { text: what }),
      record.status === "refused" ? el("span", { class: "kept-change__error", text: record.error }) : null,
      el("span", { class: "kept-change__actions" }, el("a", { href: record.page, text: say("open_question") }), " ", discard));
  }

  async function showChangesPage() {
    const assessment = Number(changesRoot.dataset.assessment);
    const answers = (await all("answers")).filter((r) => mine(r) && unsent(r) && r.assessment === assessment).sort(inOrder);
    const files = (await all("files")).filter((f) => mine(f) && f.assessment === assessment).sort(inOrder);
    const fill = (id, nodes) => {
      const box = document.getElementById(id);
      box.replaceChildren(...nodes);
      box.closest("section").hidden = nodes.length === 0;
    };
    fill("offline-conflicts", answers.filter((r) => r.status === "conflict").map(conflictView));
    const listOf = (records) => (records.length ? [el("ul", { class: "kept-changes" }, records.map(keptRow))] : []);
    fill("offline-refused", listOf([...answers.filter((r) => r.status === "refused"), ...files.filter((f) => f.status === "refused")]));
    fill("offline-waiting", [
      ...listOf(answers.filter((r) => r.status === "waiting")),
      ...listOf(files.filter((f) => f.status === "waiting")),
    ]);
    let nothing = changesRoot.querySelector(".kept-changes__none");
    if (!nothing) {
      nothing = el("p", { class: "card kept-changes__none", text: say("nothing") });
      changesRoot.prepend(nothing);
    }
    nothing.hidden = answers.length + files.length > 0;
  }

  if (changesRoot) {
    document.addEventListener("offline:changed", () => showChangesPage());
  }

  // ---- Signing out ------------------------------------------------------------------------------

  // Deletes what this device keeps: the store, and the pages the service worker kept (the static
  // assets stay: they name nobody). The server's answer to the sign-out also asks the browser to
  // clear its storage; this covers a sign-out made offline too.
  async function forget() {
    if (opening) {
      (await opening).close();
      opening = null;
    }
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
    if (window.caches) {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name === "betterwork-pages").map((name) => caches.delete(name)));
    }
  }

  function signOutDialog(form, state) {
    const list = el("ul", { class: "kept-changes" }, state.kept.sort(inOrder).slice(0, 12).map((record) => el("li", {},
      el("strong", { text: record.questionKey || "" }), " ",
      record.blob ? `${say("photo")}: ${record.name}` : answerText(record))));
    const dialog = el("dialog", { class: "offline-dialog", "aria-labelledby": "offline-dialog-title" },
      el("h2", { id: "offline-dialog-title", text: say("signout_title") }),
      el("p", { text: say("signout_lead") }), list,
      state.others ? el("p", { text: say("signout_others", { n: state.others }) }) : null,
      navigator.onLine ? null : el("p", { class: "message message--warning", text: say("signout_offline") }));
    const actions = el("p", { class: "actions" });
    const close = () => { dialog.close(); dialog.remove(); };
    if (navigator.onLine && state.waiting) {
      actions.append(button(say("signout_send"), async () => { close(); await send(); }));
    }
    const stay = el("button", { type: "button", class: "button button--secondary", text: say("signout_stay") });
    stay.addEventListener("click", close);
    const leave = el("button", { type: "button", class: "button button--danger", text: say("signout_confirm") });
    leave.addEventListener("click", () => { leave.disabled = true; signOut(form); });
    actions.append(stay, leave);
    dialog.append(actions);
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    stay.focus();
  }

  async function signOut(form) {
    await forget();
    if (navigator.onLine) {
      form.dataset.confirmed = "true";
      form.submit();
    } else {
      // The server ends the session when this device is next online (see below).
      localStorage.setItem("betterwork.signOut", "pending");
      location.replace("/offline/");
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (page && form.matches(".attachments__form")) {
      event.preventDefault();
      track(keepFile(form));
    } else if (form.matches(".js-sign-out") && !form.dataset.confirmed) {
      event.preventDefault();
      counts().then((state) => {
        if (state.kept.length || state.others) {
          signOutDialog(form, state);
        } else {
          signOut(form);
        }
      }, () => signOut(form));
    }
  });

  // A sign-out made offline: finish it now that the server can hear it.
  if (localStorage.getItem("betterwork.signOut") && navigator.onLine) {
    const form = document.querySelector("form.js-sign-out");
    localStorage.removeItem("betterwork.signOut");
    if (form) {
      form.dataset.confirmed = "true";
      form.submit();
      return;
    }
  }

  // ---- Start ------------------------------------------------------------------------------------

  (page ? applyKeptChanges() : Promise.resolve())
    .then(showQueuedFiles)
    .then(() => refresh())
    .catch(() => {});
})();
