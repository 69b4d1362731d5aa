/*
 * boxoffice on-sale page: the events, an event, its waiting room and the reservation.
 *
 * Plain JavaScript, no build step, no third-party code. Everything it shows comes from the
 * boxoffice API on the same origin (/api, see docs/api/openapi.yaml); server text is always set
 * with textContent, never parsed as HTML.
 *
 * Routes (the hash, so that nginx only serves static files):
 *   #/ and #/page/N   the upcoming events by date, with their availability
 *   #/events/ID       one event: join its waiting room (when it has one), wait for your turn,
 *                     reserve, and see the confirmation or "sold out"
 *
 * Failures: every non-2xx answer shows the error envelope's message (and the request id as a
 * reference); 429, 502, 503 and 504 are retried after their Retry-After (with a little jitter),
 * network failures after a growing back-off; the page never goes blank.
 *
 * State in sessionStorage (this tab only): bo.user (the user id), bo.token (an optional bearer
 * token, also taken from ?token=), bo.ticket.<event> and bo.admission.<event> (so that a reload
 * keeps the place in the queue and the admission).
 */
'use strict';

(function () {
    var PAGE_SIZE = 10;
    var MAX_RETRIES = 30;
    var RETRY_STATUSES = [429, 502, 503, 504];
    var USER_ID = /^[\x20-\x7e]{1,64}$/;

    // ---------------------------------------------------------------- DOM helpers

    /* h('p', {class: 'x'}, 'text', child...): an element; strings become text nodes. */
    function h(tag, attrs) {
        var el = document.createElement(tag);
        var k;
        for (k in attrs || {}) {
            if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] == null || attrs[k] === false) continue;
            if (k === 'class') el.className = attrs[k];
            else if (k === 'text') el.textContent = attrs[k];
            else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), attrs[k]);
            else if (k in el && typeof attrs[k] !== 'string') el[k] = attrs[k];
            else el.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
        }
        for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
        return el;
    }

    function append(el, child) {
        if (child == null || child === false) return;
        if (Array.isArray(child)) child.forEach(function (c) { append(el, c); });
        else el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    }

    function byId(id) { return document.getElementById(id); }

    function setText(el, text) {
        if (el.textContent !== text) el.textContent = text;
    }

    function show(el, on) { el.hidden = !on; }

    function focusHeading(el) {
        if (!el) return;
        if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
        el.focus({ preventScroll: false });
    }

    // ---------------------------------------------------------------- session storage

    var store = {
        get: function (k) {
            try { return window.sessionStorage.getItem(k); } catch (e) { return null; }
        },
        set: function (k, v) {
            try {
                if (v == null || v === '') window.sessionStorage.removeItem(k);
                else window.sessionStorage.setItem(k, v);
            } catch (e) { /* storage off: the page still works, it just forgets on reload */ }
        },
        getJSON: function (k) {
            try { return JSON.parse(this.get(k)); } catch (e) { return null; }
        },
        setJSON: function (k, v) { this.set(k, v == null ? null : JSON.stringify(v)); }
    };

    // ---------------------------------------------------------------- identity

    /* ?token=... on the address: keep it in this tab's storage and take it off the address. */
    function captureTokenFromUrl() {
        var q = new URLSearchParams(window.location.search);
        if (!q.has('token')) return;
        store.set('bo.token', (q.get('token') || '').trim());
        q.delete('token');
        var rest = q.toString();
        window.history.replaceState(null, '', window.location.pathname + (rest ? '?' + rest : '') +
            window.location.hash);
    }

    function bearerToken() { return store.get('bo.token') || ''; }

    /* The `sub` of a JWT (read, not verified: the server verifies), or ''. */
    function tokenSubject(token) {
        var parts = (token || '').split('.');
        if (parts.length !== 3) return '';
        try {
            var b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
            while (b64.length % 4) b64 += '=';
            var json = decodeURIComponent(Array.prototype.map.call(window.atob(b64), function (c) {
                return '%' + ('0' + c.charCodeAt(0).toString(16)).slice(-2);
            }).join(''));
            var sub = JSON.parse(json).sub;
            return typeof sub === 'string' && USER_ID.test(sub) ? sub : '';
        } catch (e) {
            return '';
        }
    }

    function currentUser() { return tokenSubject(bearerToken()) || store.get('bo.user') || ''; }

    // ---------------------------------------------------------------- notices (retries etc.)

    function notice(text) { setText(byId('notice'), text || ''); }

    // ---------------------------------------------------------------- the API

    function ApiError(status, code, message, details, requestId) {
        this.name = 'ApiError';
        this.status = status;
        this.code = code;
        this.message = message;
        this.details = details || null;
        this.requestId = requestId || '';
        this.retryAfter = null;
    }
    ApiError.prototype = Object.create(Error.prototype);
    ApiError.prototype.constructor = ApiError;

    function abortError() {
        var e = new Error('aborted');
        e.name = 'AbortError';
        return e;
    }

    function sleep(ms, signal) {
        return new Promise(function (resolve, reject) {
            if (signal && signal.aborted) { reject(abortError()); return; }
            var t = window.setTimeout(function () {
                if (signal) signal.removeEventListener('abort', onAbort);
                resolve();
            }, ms);
            function onAbort() { window.clearTimeout(t); reject(abortError()); }
            if (signal) signal.addEventListener('abort', onAbort, { once: true });
        });
    }

    /* Retry-After: seconds or an HTTP date; null when absent or unreadable. */
    function retryAfterSeconds(value) {
        if (value == null || value === '') return null;
        if (/^\s*\d+\s*$/.test(value)) return Math.min(parseInt(value, 10), 300);
        var when = Date.parse(value);
        if (isNaN(when)) return null;
        return Math.max(0, Math.min(300, Math.ceil((when - Date.now()) / 1000)));
    }

    function backoffSeconds(attempt) { return Math.min(30, Math.pow(2, Math.min(attempt, 5))); }

    /* Spread a crowd's retries over a little time instead of one instant. */
    function jitterMs(seconds) { return Math.floor(Math.random() * Math.min(1000, 250 + seconds * 250)); }

    function randomKey() {
        var b = new Uint8Array(16);
        window.crypto.getRandomValues(b);
        return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
    }

    /*
     * One API call: resolves with the envelope's data, rejects with an ApiError (or an
     * AbortError when the view went away). opts: body (JSON), headers, auth (send the bearer
     * token), signal, retryCodes (error codes that are retried when they carry Retry-After).
     */
    function api(method, path, opts) {
        opts = opts || {};
        var headers = { Accept: 'application/json' };
        if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
        if (opts.auth && bearerToken()) headers.Authorization = 'Bearer ' + bearerToken();
        Object.keys(opts.headers || {}).forEach(function (k) { headers[k] = opts.headers[k]; });
        var init = {
            method: method, headers: headers, signal: opts.signal, credentials: 'same-origin',
            body: opts.body === undefined ? undefined : JSON.stringify(opts.body)
        };

        function attempt(n) {
            return window.fetch('/api' + path, init).then(function (res) {
                return res.text().then(function (text) { return answer(n, res, text); });
            }, function (err) {
                if (err && err.name === 'AbortError') throw err;
                if (n >= MAX_RETRIES) {
                    notice('');
                    throw new ApiError(0, 'NETWORK_ERROR',
                        'The ticket service could not be reached. Check your connection and try again.');
                }
                var wait = backoffSeconds(n);
                notice('The ticket service cannot be reached right now. Trying again in ' + wait + ' s…');
                return sleep(wait * 1000 + jitterMs(wait), opts.signal).then(function () { return attempt(n + 1); });
            });
        }

        function answer(n, res, text) {
            var body = null;
            var requestId = res.headers.get('X-Request-Id') || '';
            if (text) {
                try { body = JSON.parse(text); } catch (e) { body = null; }
            }
            if (res.ok) {
                notice('');
                // the server's clock at the answer (a cached answer keeps the time it was made)
                if (opts.onTime && body && typeof body.timestamp === 'string') opts.onTime(Date.parse(body.timestamp));
                if (res.status === 204) return null;
                if (body && body.success === true) return body.data;
                throw new ApiError(res.status, 'UNREADABLE_ANSWER',
                    'The ticket service sent an answer this page cannot read.', null, requestId);
            }
            var e = body && body.success === false && body.error && typeof body.error === 'object' ? body.error : {};
            var err = new ApiError(res.status, e.code || 'HTTP_' + res.status,
                typeof e.message === 'string' && e.message ? e.message :
                    'The ticket service answered ' + res.status + (res.statusText ? ' ' + res.statusText : '') + '.',
                e.details && typeof e.details === 'object' ? e.details : null, requestId);
            err.retryAfter = retryAfterSeconds(res.headers.get('Retry-After'));
            var retry = RETRY_STATUSES.indexOf(res.status) >= 0 ||
                (err.retryAfter !== null && (opts.retryCodes || []).indexOf(err.code) >= 0);
            if (retry && n < MAX_RETRIES) {
                var wait = err.retryAfter !== null ? err.retryAfter : backoffSeconds(n);
                notice(err.message + ' Trying again in ' + wait + ' s…');
                return sleep(wait * 1000 + jitterMs(wait), opts.signal).then(function () { return attempt(n + 1); });
            }
            notice('');
            throw err;
        }

        return attempt(0);
    }

    // ---------------------------------------------------------------- formatting

    var dateFormat = new Intl.DateTimeFormat(undefined, {
        weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit'
    });
    var timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

    function formatDate(iso) {
        var d = new Date(iso);
        return isNaN(d.getTime()) ? String(iso) : dateFormat.format(d);
    }

    function timeEl(iso) { return h('time', { datetime: iso }, formatDate(iso)); }

    function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

    function formatWait(seconds) {
        if (!(seconds > 0)) return 'any moment now';
        if (seconds < 1) return 'less than a second';
        if (seconds < 60) return 'about ' + plural(Math.ceil(seconds), 'second', 'seconds');
        if (seconds < 3600) return 'about ' + plural(Math.ceil(seconds / 60), 'minute', 'minutes');
        var hrs = Math.floor(seconds / 3600);
        var min = Math.ceil((seconds - hrs * 3600) / 60);
        return 'about ' + plural(hrs, 'hour', 'hours') + (min ? ' ' + plural(min, 'minute', 'minutes') : '');
    }

    function onSale(ev) { return ev.status === 'ACTIVE' && Date.parse(ev.eventDate) > Date.now(); }

    function availability(ev) {
        if (!onSale(ev)) return { cls: 'closed', text: 'Sales closed' };
        if (ev.availableSeats <= 0) return { cls: 'none', text: 'Sold out' };
        var low = ev.availableSeats < ev.totalSeats &&
            ev.availableSeats <= Math.max(10, Math.floor(ev.totalSeats / 10));
        return {
            cls: low ? 'low' : 'ok',
            text: (low ? 'Only ' : '') + ev.availableSeats.toLocaleString() + ' of ' +
                ev.totalSeats.toLocaleString() + ' seats left'
        };
    }

    /* The envelope's message, its per-field details, and a reference for support. */
    function errorLines(err) {
        var lines = [h('p', { class: 'err-message' }, err.message || 'Something went wrong.')];
        if (err.details && err.code === 'INVALID_REQUEST') {
            var items = Object.keys(err.details).map(function (k) {
                return h('li', null, k + ': ' + String(err.details[k]));
            });
            if (items.length) lines.push(h('ul', { class: 'details' }, items));
        }
        var ref = err.code ? 'Code ' + err.code : '';
        if (err.requestId) ref += (ref ? ' · ' : '') + 'reference ' + err.requestId;
        if (ref) lines.push(h('p', { class: 'ref' }, ref));
        return lines;
    }

    // ---------------------------------------------------------------- views and routing

    var viewAbort = null;
    var firstRender = true;

    function setView(title) {
        var view = byId('view');
        var nodes = Array.prototype.slice.call(arguments, 1);
        view.textContent = '';
        append(view, nodes);
        document.title = title + ' · boxoffice';
        var h1 = view.querySelector('h1');
        if (!firstRender && h1) focusHeading(h1);
        firstRender = false;
    }

    function loadingView(text) {
        var view = byId('view');
        view.textContent = '';
        view.appendChild(h('p', { class: 'loading', role: 'status' }, text));
    }

    function errorView(err) {
        var title = err.status === 404 ? 'Not found' : 'Something went wrong';
        setView(title,
            h('h1', null, title),
            h('div', { class: 'box error', role: 'alert' }, errorLines(err)),
            h('div', { class: 'row' },
                h('button', { type: 'button', onclick: route }, 'Try again'),
                h('a', { class: 'button secondary', href: '#/' }, 'All events')));
    }

    function notFoundView() {
        setView('Page not found',
            h('h1', null, 'Page not found'),
            h('p', null, 'There is nothing at this address.'),
            h('p', null, h('a', { href: '#/' }, 'See the events on sale')));
    }

    function route() {
        if (viewAbort) viewAbort.abort();
        viewAbort = new AbortController();
        var signal = viewAbort.signal;
        var path = window.location.hash.replace(/^#/, '') || '/';
        var m;
        var done;
        notice('');
        if ((m = /^\/(?:page\/(\d{1,6}))?$/.exec(path))) done = listView(m[1] ? Math.max(1, +m[1]) : 1, signal);
        else if ((m = /^\/events\/([1-9]\d{0,18})$/.exec(path))) done = eventView(m[1], signal);
        else { notFoundView(); return; }
        done.catch(function (err) {
            if (err && err.name === 'AbortError') return;
            errorView(err instanceof ApiError ? err :
                new ApiError(0, 'PAGE_ERROR', 'This page ran into a problem: ' + (err && err.message || err)));
        });
    }

    // ---------------------------------------------------------------- the list

    function eventCard(ev) {
        var a = availability(ev);
        return h('li', { class: 'card' },
            h('h2', null, h('a', { href: '#/events/' + ev.id, 'data-event-id': String(ev.id) }, ev.eventName)),
            h('p', { class: 'meta' }, timeEl(ev.eventDate), ev.venue ? ' · ' + ev.venue : ''),
            h('p', { class: 'avail ' + a.cls }, a.text),
            ev.waitingRoom && ev.waitingRoom.enabled ? h('p', { class: 'badge' }, 'Waiting room') : null);
    }

    /*
     * The upcoming ACTIVE events (GET /api/events/upcoming: by date, at most 500, sold-out ones
     * included, one URL that nginx can micro-cache for the whole crowd), PAGE_SIZE a page.
     */
    function listView(pageNo, signal) {
        loadingView('Loading the events…');
        return api('GET', '/events/upcoming', { signal: signal }).then(function (all) {
            all = Array.isArray(all) ? all : [];
            var pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
            var events = all.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE);
            var nav = null;
            if (pages > 1) {
                nav = h('nav', { class: 'pager', 'aria-label': 'Pages of events' },
                    pageNo > 1 ? h('a', { class: 'button secondary', href: '#/page/' + (pageNo - 1), rel: 'prev' },
                        'Previous') : h('span'),
                    h('span', { class: 'pageno' }, 'Page ' + pageNo + ' of ' + pages),
                    pageNo < pages ? h('a', { class: 'button secondary', href: '#/page/' + (pageNo + 1), rel: 'next' },
                        'Next') : h('span'));
            }
            setView(pageNo > 1 ? 'Events, page ' + pageNo : 'Events on sale',
                h('h1', null, 'Events on sale'),
                h('p', { class: 'lead' }, all.length === 1 ? '1 upcoming event' :
                    all.length.toLocaleString() + ' upcoming events'),
                events.length ? h('ul', { class: 'cards', 'aria-label': 'Events' }, events.map(eventCard)) :
                    h('p', { class: 'box' }, pageNo > 1 ? 'No events on this page. ' : 'Nothing is on sale right now.',
                        pageNo > 1 ? h('a', { href: '#/' }, 'Back to the first page') : null),
                nav);
        });
    }

    // ---------------------------------------------------------------- one event

    function eventView(id, signal) {
        loadingView('Loading the event…');
        return api('GET', '/events/' + id, { signal: signal }).then(function (ev) {
            renderEvent(ev, signal);
        });
    }

    function renderEvent(ev, signal) {
        var room = !!(ev.waitingRoom && ev.waitingRoom.enabled);
        var ticketKey = 'bo.ticket.' + ev.id;
        var admissionKey = 'bo.admission.' + ev.id;
        var maxQty = Math.max(1, Math.min(ev.maxPerRequest || 1, ev.perUserLimit || 1,
            ev.availableSeats > 0 ? ev.availableSeats : Infinity));
        var subject = tokenSubject(bearerToken());

        function qtySelect(id, selected, max) {
            var sel = h('select', { id: id, name: 'quantity' });
            for (var i = 1; i <= max; i++) sel.appendChild(h('option', { value: String(i) }, String(i)));
            sel.value = String(Math.min(selected || 1, max));
            return sel;
        }

        // ---- the page
        var seats = h('dd', { id: 'seats' }, availability(ev).text);
        var userInput = h('input', {
            id: 'user', name: 'user', type: 'text', required: true, maxlength: '64', autocomplete: 'username',
            spellcheck: 'false', autocapitalize: 'off', 'aria-describedby': 'user-hint',
            value: currentUser(), readOnly: !!subject
        });
        var qty = qtySelect('qty', 1, maxQty);
        qty.setAttribute('aria-describedby', 'qty-hint');
        var formError = h('p', { id: 'form-error', class: 'field-error', role: 'alert' });
        var submit = h('button', { type: 'submit', id: 'go' }, room ? 'Join the queue' : 'Reserve');
        var form = h('form', { id: 'buy', class: 'stack', novalidate: true },
            h('label', { for: 'user' }, 'Your name or user id'),
            userInput,
            h('p', { id: 'user-hint', class: 'hint' }, subject ? 'Set by your access token.' :
                'Up to 64 letters, digits or symbols; your tickets are booked under it.'),
            h('label', { for: 'qty' }, 'Tickets'),
            qty,
            h('p', { id: 'qty-hint', class: 'hint' }, 'At most ' + plural(maxQty, 'ticket', 'tickets') + ' per booking.'),
            formError,
            submit);

        var queueH = h('h2', { id: 'queue-h' }, 'You are in the queue');
        var position = h('p', { id: 'position', class: 'position', 'aria-live': 'polite', 'aria-atomic': 'true' });
        var progress = h('progress', { id: 'queue-progress', max: '1', value: '0', 'aria-labelledby': 'progress-label' });
        var numbers = h('p', { id: 'numbers', class: 'hint' });
        var queueBox = h('section', { id: 'queue', class: 'panel', 'aria-labelledby': 'queue-h', hidden: true },
            queueH,
            position,
            h('p', { id: 'progress-label', class: 'hint' }, 'Progress through the queue'),
            progress,
            numbers,
            h('p', { class: 'hint' }, 'Keep this page open: it checks for your turn by itself.'));

        var turnH = h('h2', { id: 'turn-h' }, 'It’s your turn');
        var turnText = h('p', { id: 'turn-text' });
        var turnQty = qtySelect('turn-qty', 1, maxQty);
        var reserveBtn = h('button', { type: 'submit', id: 'reserve' }, 'Reserve');
        var turnForm = h('form', { id: 'turn', class: 'panel stack', 'aria-labelledby': 'turn-h', hidden: true, novalidate: true },
            turnH, turnText, h('label', { for: 'turn-qty' }, 'Tickets'), turnQty, reserveBtn);

        // The outcome (confirmation, sold out, errors): assertive, it is what the user waits for.
        var outcome = h('div', { id: 'outcome', 'aria-live': 'assertive', 'aria-atomic': 'true' });

        var facts = h('dl', { class: 'facts' },
            h('dt', null, 'When'), h('dd', null, timeEl(ev.eventDate)),
            ev.venue ? [h('dt', null, 'Where'), h('dd', null, ev.venue)] : null,
            h('dt', null, 'Seats'), seats,
            h('dt', null, 'Limit'), h('dd', null, plural(ev.perUserLimit, 'ticket', 'tickets') + ' per person'));

        setView(ev.eventName,
            h('p', { class: 'back' }, h('a', { href: '#/' }, '← All events')),
            h('h1', null, ev.eventName),
            facts,
            room ? h('p', { class: 'box info', id: 'room-note' }, 'This on-sale has a waiting room: ',
                plural(ev.waitingRoom.admitPerSecond, 'person is', 'people are'),
                ' let in each second, in the order they joined. Join the queue and keep this page open.') : null,
            form, queueBox, turnForm, outcome);

        // ---- outcomes
        function setOutcome(kind, title, body, actions) {
            var heading = h('h2', { id: 'outcome-h' }, title);
            outcome.textContent = '';
            outcome.className = 'box ' + kind;
            append(outcome, [heading, body, actions && actions.length ? h('div', { class: 'row' }, actions) : null]);
            focusHeading(heading);
        }

        function clearOutcome() {
            outcome.textContent = '';
            outcome.className = '';
        }

        function soldOut(message) {
            show(form, false);
            show(queueBox, false);
            show(turnForm, false);
            setText(seats, 'Sold out');
            store.set(ticketKey, null);
            store.set(admissionKey, null);
            setOutcome('soldout', 'Sold out',
                h('p', null, message || 'Every seat of this event has been taken.'),
                [h('a', { class: 'button secondary', href: '#/' }, 'See other events')]);
        }

        function failed(err, title, retry) {
            if (err && err.name === 'AbortError') return;
            if (!(err instanceof ApiError)) {
                err = new ApiError(0, 'PAGE_ERROR', 'This page ran into a problem: ' + (err && err.message || err));
            }
            var lines = errorLines(err);
            if (err.status === 401) {
                // signing in is someone else's page: say where the token goes, and open that part
                lines.push(h('p', null, 'This sale needs an access token: add it under “Access token” ' +
                    'at the foot of the page, then try again.'));
                byId('access').open = true;
            }
            setOutcome('error', title, lines,
                retry ? [h('button', { type: 'button', id: 'retry', onclick: retry }, 'Try again')] : null);
        }

        function busy(button, on, label) {
            button.disabled = on;
            if (label) button.textContent = label;
        }

        function validUser() {
            var u = userInput.value.trim();
            if (!USER_ID.test(u)) {
                formError.textContent = u ? 'Use at most 64 letters, digits or symbols (no accents).' :
                    'Enter your name or user id.';
                userInput.setAttribute('aria-invalid', 'true');
                userInput.focus();
                return null;
            }
            formError.textContent = '';
            userInput.removeAttribute('aria-invalid');
            if (!subject) store.set('bo.user', u);
            return u;
        }

        // ---- reserving
        function reserve(user, quantity, admission, button, label) {
            var headers = { 'Idempotency-Key': randomKey() };
            if (admission) headers['X-Admission-Token'] = admission.admissionToken;
            clearOutcome();
            busy(button, true, 'Reserving…');
            return api('POST', '/reservations', {
                body: { eventId: ev.id, userId: user, quantity: quantity }, headers: headers, auth: true,
                signal: signal, retryCodes: ['CONCURRENT_RESERVATION']
            }).then(function (r) {
                store.set(ticketKey, null);
                store.set(admissionKey, null);
                show(form, false);
                show(queueBox, false);
                show(turnForm, false);
                setOutcome('ok', 'Booked: your tickets are confirmed',
                    h('dl', { class: 'facts', id: 'confirmation' },
                        h('dt', null, 'Event'), h('dd', null, ev.eventName),
                        h('dt', null, 'Tickets'), h('dd', { id: 'conf-qty' }, String(r.quantity)),
                        h('dt', null, 'Name'), h('dd', null, r.userId),
                        h('dt', null, 'Booking'), h('dd', { id: 'conf-id' }, '#' + r.id + ' · ' + r.status)),
                    [h('a', { class: 'button secondary', href: '#/' }, 'See other events')]);
                refreshSeats();
            }, function (err) {
                busy(button, false, label);
                if (err && err.name === 'AbortError') return;
                if (err.code === 'INSUFFICIENT_SEATS') {
                    var left = err.details && isFinite(err.details.available) ? Number(err.details.available) : 0;
                    if (left <= 0) { soldOut(err.message); return; }
                    setText(seats, plural(left, 'seat', 'seats') + ' left');
                    failed(err, 'Only ' + plural(left, 'seat is', 'seats are') + ' left');
                    return;
                }
                if (err.code === 'ADMISSION_REQUIRED' && admission) {
                    store.set(admissionKey, null);
                    failed(err, 'Your turn has ended', function () { joinQueue(user); });
                    setText(byId('retry'), 'Queue again');
                    show(turnForm, false);
                    return;
                }
                failed(err, 'Not booked');
            });
        }

        function refreshSeats() {
            api('GET', '/events/' + ev.id, { signal: signal }).then(function (fresh) {
                setText(seats, availability(fresh).text);
            }, function () { /* the confirmation stands; the count refreshes next time */ });
        }

        // ---- the waiting room
        function showPosition(ticket, state, start) {
            var place = ticket.number - state.serving;
            var rate = Math.max(1, state.admitPerSecond || ev.waitingRoom.admitPerSecond || 1);
            if (place > 0) {
                setText(position, 'You are number ' + place.toLocaleString() + ' in line. Estimated wait: ' +
                    formatWait(place / rate) + '.');
            } else {
                setText(position, 'Your turn has come. Letting you in…');
            }
            position.setAttribute('data-place', String(Math.max(0, place)));
            progress.max = Math.max(1, start);
            progress.value = Math.max(0, Math.min(start, start - place));
            setText(numbers, 'Your ticket number ' + ticket.number.toLocaleString() + ' · now serving ' +
                state.serving.toLocaleString() + ' · checked at ' + timeFormat.format(new Date()));
        }

        function joinQueue(user, focus) {
            var skew = 0;   // the server's clock minus this one (the join's answer is never cached)
            clearOutcome();
            busy(submit, true, 'Joining…');
            return api('POST', '/events/' + ev.id + '/queue', {
                body: { userId: user }, auth: true, signal: signal,
                onTime: function (t) { if (!isNaN(t)) skew = t - Date.now(); }
            }).then(function (t) {
                busy(submit, false, 'Join the queue');
                var ticket = { user: user, ticket: t.ticket, number: t.number };
                store.setJSON(ticketKey, ticket);
                return waitInQueue(ticket, t.serving, focus !== false, skew);
            }, function (err) {
                busy(submit, false, 'Join the queue');
                show(form, true);
                failed(err, 'Could not join the queue', function () { joinQueue(user); });
            });
        }

        /*
         * Wait for the ticket's turn. The shared state is polled less often the further away the
         * turn is: after a fifth of the estimated wait, 5 to 15 s (a crowd polling every second
         * costs the servers as much as its purchases). Between polls the place counts down at
         * admitPerSecond on the page itself. Once the turn is at most 5 s away the page stops
         * polling and asks for admission when it is due, counted from when the poll's answer was
         * made (a cached answer may be a second or two old; its timestamp is the server's clock,
         * `skew` away from this one), plus 150 ms: the room moves in tenths of a second. If early
         * after all, NOT_YET_SERVED says how long. A sold-out event shows at the next poll.
         */
        function waitInQueue(ticket, serving, focus, skew) {
            var start = Math.max(1, ticket.number - (serving || 0));
            var shown = serving || 0, rate = Math.max(1, ev.waitingRoom.admitPerSecond || 1);
            var polledAt = Date.now(), polled = shown, ticker = null;
            show(form, false);
            show(turnForm, false);
            show(queueBox, true);
            showPosition(ticket, { serving: shown, admitPerSecond: rate }, start);
            if (focus) focusHeading(queueH);

            function tick() {
                var guess = Math.min(ticket.number, polled + Math.floor((Date.now() - polledAt) / 1000 * rate));
                if (guess > shown) {
                    shown = guess;
                    showPosition(ticket, { serving: shown, admitPerSecond: rate }, start);
                }
            }
            function stopTicker() { if (ticker !== null) { window.clearInterval(ticker); ticker = null; } }
            signal.addEventListener('abort', stopTicker, { once: true });
            ticker = window.setInterval(tick, 1000);

            function next(place, age) {
                var etaMs = Math.max(0, place * 1000 / rate - age);
                if (etaMs <= 5000) {
                    return sleep(Math.ceil(etaMs) + 150 + Math.floor(Math.random() * 100), signal).then(function () {
                        stopTicker();
                        return admit(ticket);
                    });
                }
                return sleep(Math.max(5000, Math.min(15000, etaMs / 5)), signal).then(poll);
            }
            function poll() {
                var madeAt = NaN;
                return api('GET', '/events/' + ev.id + '/queue', {
                    signal: signal, onTime: function (t) { madeAt = t; }
                }).then(function (state) {
                    if (state.soldOut) { stopTicker(); soldOut(); return null; }
                    var age = isNaN(madeAt) ? 0 : Math.max(0, Math.min(5000, Date.now() + skew - madeAt));
                    rate = Math.max(1, state.admitPerSecond || rate);
                    polled = state.serving;
                    polledAt = Date.now() - age;
                    // the place never goes back up on screen: a poll may be older than the count-down
                    shown = Math.max(shown, state.serving);
                    showPosition(ticket, { serving: shown, admitPerSecond: rate }, start);
                    if (ticket.number <= state.serving) { stopTicker(); return admit(ticket); }
                    return next(ticket.number - state.serving, age);
                });
            }
            return poll().catch(function (err) {
                stopTicker();
                failed(err, 'The queue could not be checked', function () { joinQueue(ticket.user, true); });
            });
        }

        function admit(ticket) {
            return api('POST', '/events/' + ev.id + '/queue/admission', {
                body: { ticket: ticket.ticket }, auth: true, signal: signal
            }).then(function (a) {
                var admission = { user: ticket.user, admissionToken: a.admissionToken, expiresAt: a.expiresAt };
                store.setJSON(admissionKey, admission);
                yourTurn(admission, true);
            }, function (err) {
                if (err.code !== 'NOT_YET_SERVED') throw err;
                // the shared poll was a little ahead of this instance: wait as told, then look again
                return sleep(Math.max(1, err.retryAfter || 1) * 1000, signal).then(function () {
                    return api('GET', '/events/' + ev.id + '/queue', { signal: signal });
                }).then(function (state) {
                    if (state.soldOut) { soldOut(); return null; }
                    return admit(ticket);
                });
            });
        }

        function yourTurn(admission, focus) {
            var until = new Date(admission.expiresAt);
            show(form, false);
            show(queueBox, false);
            show(turnForm, true);
            turnQty.value = qty.value;
            setText(reserveBtn, 'Reserve');
            setText(turnText, 'You have been let in. Reserve before ' + timeFormat.format(until) +
                ', when your turn ends.');
            if (focus) focusHeading(turnH);
        }

        // ---- wiring
        form.addEventListener('submit', function (e) {
            e.preventDefault();
            var user = validUser();
            if (!user) return;
            if (room) joinQueue(user);
            else reserve(user, Number(qty.value), null, submit, 'Reserve');
        });
        turnForm.addEventListener('submit', function (e) {
            e.preventDefault();
            var a = store.getJSON(admissionKey);
            if (!a) { failed(new ApiError(0, 'ADMISSION_REQUIRED', 'Your turn has ended: join the queue again.'), 'Your turn has ended'); return; }
            reserve(a.user, Number(turnQty.value), a, reserveBtn, 'Reserve');
        });

        // ---- where this user stands
        if (!onSale(ev)) {
            show(form, false);
            setOutcome('closed', 'Sales closed', h('p', null, 'This event is not on sale any more.'),
                [h('a', { class: 'button secondary', href: '#/' }, 'See other events')]);
            return;
        }
        if (ev.availableSeats <= 0) { soldOut(); return; }
        if (!room) return;
        var user = currentUser();
        var admission = store.getJSON(admissionKey);
        var ticket = store.getJSON(ticketKey);
        if (admission && admission.user === user && Date.parse(admission.expiresAt) > Date.now() + 5000) {
            yourTurn(admission, false);
        } else if (ticket && ticket.user === user) {
            // joining again hands back the same ticket, with the serving number of now
            store.set(admissionKey, null);
            joinQueue(user, false);
        }
    }

    // ---------------------------------------------------------------- the token form

    function tokenForm() {
        var input = byId('token');
        var state = byId('token-state');
        function describe() {
            var t = bearerToken();
            var sub = tokenSubject(t);
            setText(state, t ? 'A token is in use' + (sub ? ' (user ' + sub + ').' : '.') : 'No token: requests go without one.');
        }
        byId('token-form').addEventListener('submit', function (e) {
            e.preventDefault();
            store.set('bo.token', input.value.trim());
            input.value = '';
            describe();
            route();
        });
        byId('token-forget').addEventListener('click', function () {
            store.set('bo.token', null);
            input.value = '';
            describe();
            route();
        });
        describe();
    }

    // ---------------------------------------------------------------- start

    function fatal(message) {
        var view = byId('view');
        // never a blank screen: if a view died half-drawn, say so and offer a way back
        if (view && !view.querySelector('.box.error')) {
            view.appendChild(h('div', { class: 'box error', role: 'alert' },
                h('p', null, 'This page ran into a problem: ' + message),
                h('p', null, h('a', { href: '#/', onclick: function () { window.setTimeout(route, 0); } },
                    'Start again'))));
        }
    }
    window.addEventListener('error', function (e) { fatal(e.message || 'unknown error'); });
    window.addEventListener('unhandledrejection', function (e) {
        var r = e.reason;
        if (r && r.name === 'AbortError') { e.preventDefault(); return; }
        fatal(r && r.message || String(r));
    });

    function start() {
        captureTokenFromUrl();
        tokenForm();
        var skip = document.querySelector('.skip');
        if (skip) {
            skip.addEventListener('click', function (e) {
                e.preventDefault();
                byId('main').focus();
            });
        }
        window.addEventListener('hashchange', route);
        route();
    }

    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
}());
