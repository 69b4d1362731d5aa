"""The on-sale page (web/, served by nginx at /) in a real headless Chromium, on the stack.

1. One user goes from the event list through the waiting room (admitting one person a second,
   behind five others, so that the place in line visibly moves) to a confirmed reservation;
   a second user, in another browser, then sees the event sold out, in the list and on its page.
2. With auth_mode = jwt: a token given as /?token=... leaves the address, names the user and
   goes as a bearer token with the queue and reservation calls (confirmed); a browser without
   one is told why it cannot join (the 401's message).
3. An event without a waiting room: reserving directly, through a 503 with Retry-After (the
   page waits and retries with the same Idempotency-Key), a seat taken by someone else while
   the page was open (409 INSUFFICIENT_SEATS: "sold out"), and an unknown event (the error
   envelope's message is shown, never a blank page).

Each step is checked for what a person relies on: where the focus goes, the live regions, and
that nothing is wider than the 360 px phone screen. Screenshots: $BOXOFFICE_SCREENSHOT_DIR."""
import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import PHONE
import stacklib

STATE_JS = """
const $ = (id) => document.getElementById(id);
const visible = (id) => !!$(id) && !$(id).hidden;
const out = $('outcome');
return {
  h1: (document.querySelector('#view h1') || {}).textContent || null,
  loading: !!document.querySelector('#view .loading'),
  queue: visible('queue'), turn: visible('turn'), form: visible('buy'),
  place: $('position') ? $('position').getAttribute('data-place') : null,
  position: $('position') ? $('position').textContent : '',
  outcome: out ? out.className : '', outcomeText: out ? out.textContent : '',
  notice: $('notice') ? $('notice').textContent : '',
  focus: document.activeElement ? document.activeElement.id : '',
  width: document.documentElement.scrollWidth,
};
"""

# Added to the page before it loads: the first POST /api/reservations of this tab gets the
# answer a shedding server gives (503, error envelope, Retry-After: 1); the rest go through.
SHED_ONCE_JS = """
(function () {
  const realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    if (!sessionStorage.getItem('test.shed') && /\\/api\\/reservations$/.test(url) &&
        init && init.method === 'POST') {
      sessionStorage.setItem('test.shed', '1');
      const body = JSON.stringify({success: false, error: {code: 'SERVICE_UNAVAILABLE',
        message: 'Busy right now (test).', details: {}}, timestamp: new Date().toISOString()});
      return Promise.resolve(new Response(body, {status: 503, headers: {
        'Content-Type': 'application/json', 'Retry-After': '1', 'X-Request-Id': 'test-shed-0001'}}));
    }
    return realFetch(input, init);
  };
})();
"""


def state(d):
    return d.execute_script(STATE_JS)


def until(d, pred, what, timeout=30):
    """Wait until pred(state) holds; returns that state."""
    last = {}

    def check(drv):
        nonlocal last
        last = state(drv)
        return last if pred(last) else False
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.1).until(check)
    except Exception as e:
        raise AssertionError(f"waited {timeout}s for {what}; page state: {last}") from e


def fits_phone(s):
    assert s["width"] <= PHONE["width"], f"the page is {s['width']} px wide on a {PHONE['width']} px screen"


def shot(d, shots, name, bottom_of=None):
    """A screenshot from the top of the page, or scrolled so that element id bottom_of ends it."""
    if bottom_of:
        d.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'end'})", bottom_of)
    else:
        d.execute_script("window.scrollTo(0, 0)")
    d.save_screenshot(str(shots / name))


def open_from_list(d, base_url, event_id):
    """Load /, go through the list's pages until the event's card shows; returns the page number."""
    d.get(base_url + "/")
    page = 1
    while True:
        until(d, lambda s: s["h1"] == "Events on sale" and not s["loading"], f"the event list, page {page}")
        if d.find_elements(By.CSS_SELECTOR, f'a[data-event-id="{event_id}"]'):
            return page
        nxt = d.find_elements(By.CSS_SELECTOR, 'a[rel="next"]')
        assert nxt, f"event {event_id} is on no page of the list"
        page += 1
        nxt[0].click()
        WebDriverWait(d, 20).until(lambda drv: drv.execute_script(
            "const p = document.querySelector('.pageno'); return !!p && p.textContent.startsWith(arguments[0])",
            f"Page {page} of"))


def card_text(d, event_id):
    return d.execute_script(
        "const a = document.querySelector(`a[data-event-id='${arguments[0]}']`);"
        "return a ? a.closest('li').textContent : null", str(event_id))


def test_queue_to_a_confirmed_reservation_then_sold_out_for_the_next(api, browser, base_url, shots, tag):
    name = f"Winter Gala {tag}"
    ev = api.create_event(room_rate=1, eventName=name, totalSeats=2, perUserLimit=2, maxPerRequest=2,
                          venue="Main Hall", eventDate=stacklib.iso_in(days=0, minutes=30))
    user = f"alice-{tag}"

    d = browser()
    # 1. the list
    open_from_list(d, base_url, ev["id"])
    assert "2 of 2 seats left" in card_text(d, ev["id"]) and "Waiting room" in card_text(d, ev["id"])
    fits_phone(state(d))
    d.execute_script("document.querySelector(`a[data-event-id='${arguments[0]}']`).closest('li')"
                     ".scrollIntoView({block: 'nearest'})", str(ev["id"]))
    d.save_screenshot(str(shots / "01-events.png"))

    # 2. the event
    d.find_element(By.CSS_SELECTOR, f'a[data-event-id="{ev["id"]}"]').click()
    s = until(d, lambda s: s["h1"] == name and s["form"], "the event page with its form")
    assert d.execute_script("return document.activeElement.tagName") == "H1"
    assert "waiting room" in d.find_element(By.ID, "room-note").text
    assert d.find_element(By.ID, "go").text == "Join the queue"
    fits_phone(s)
    d.find_element(By.ID, "user").send_keys(user)
    Select(d.find_element(By.ID, "qty")).select_by_value("2")
    shot(d, shots, "02-event.png")

    # 3. the queue: five people join just before user one, whose place in line then starts
    #    around 5 and falls once a second; the place and the estimate move as the page polls
    for i in range(5):
        api.join(ev["id"], f"crowd-{i}-{tag}")
    d.find_element(By.ID, "go").click()
    s = until(d, lambda s: s["queue"] and s["place"] is not None, "the queue panel")
    assert s["focus"] == "queue-h", s
    pos = d.find_element(By.ID, "position")
    assert pos.get_attribute("aria-live") == "polite" and pos.get_attribute("aria-atomic") == "true"
    places, texts = [], []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        s = state(d)
        if s["queue"] and s["place"] is not None and (not places or int(s["place"]) != places[-1]):
            places.append(int(s["place"]))
            texts.append(s["position"])
            fits_phone(s)
            if len(places) == 1:
                shot(d, shots, "03-queue.png")
            elif len(places) == 2:
                shot(d, shots, "04-queue-moves.png")
        if s["turn"] or s["outcome"]:
            break
        time.sleep(0.1)
    print("places seen:", places, "\n" + "\n".join(texts))
    assert places and places[0] >= 3, f"expected a place behind the crowd, saw {places}"
    assert len([p for p in places if p > 0]) >= 2, f"the place never moved: {places}"
    assert places == sorted(places, reverse=True), f"the place went backwards: {places}"
    assert "Estimated wait: about" in texts[0], texts[0]

    # 4. admitted
    s = until(d, lambda s: s["turn"], "the admission (your turn)", timeout=30)
    assert s["focus"] == "turn-h", s
    assert Select(d.find_element(By.ID, "turn-qty")).first_selected_option.text == "2"
    fits_phone(s)
    shot(d, shots, "05-your-turn.png")

    # 5. reserved
    d.find_element(By.ID, "reserve").click()
    s = until(d, lambda s: "ok" in s["outcome"].split(), "the confirmation")
    assert s["focus"] == "outcome-h", s
    assert d.find_element(By.ID, "outcome").get_attribute("aria-live") == "assertive"
    assert "confirmed" in s["outcomeText"] and d.find_element(By.ID, "conf-qty").text == "2", s
    fits_phone(s)
    shot(d, shots, "06-confirmed.png")
    mine = [r for r in api.reservations_of(user) if r["eventId"] == ev["id"]]
    assert [(r["quantity"], r["status"]) for r in mine] == [(2, "CONFIRMED")], mine
    assert d.find_element(By.ID, "conf-id").text.startswith(f"#{mine[0]['id']} ")

    # 6. a second user, in another browser: sold out in the list (it may be a second stale)...
    d2 = browser()
    deadline = time.monotonic() + 15
    while True:
        open_from_list(d2, base_url, ev["id"])
        if "Sold out" in card_text(d2, ev["id"]) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert "Sold out" in card_text(d2, ev["id"]), card_text(d2, ev["id"])
    d2.execute_script("document.querySelector(`a[data-event-id='${arguments[0]}']`).closest('li')"
                      ".scrollIntoView({block: 'nearest'})", str(ev["id"]))
    d2.save_screenshot(str(shots / "07-list-sold-out.png"))
    # ...and on the event's page (straight away, or at the queue's first poll)
    d2.find_element(By.CSS_SELECTOR, f'a[data-event-id="{ev["id"]}"]').click()
    s = until(d2, lambda s: s["h1"] == name and not s["loading"], "the event page")
    if s["form"]:  # the event read was a second old: join, and the shared poll says sold out
        d2.find_element(By.ID, "user").send_keys(f"bob-{tag}")
        d2.find_element(By.ID, "go").click()
    s = until(d2, lambda s: "soldout" in s["outcome"].split(), "sold out")
    assert "Sold out" in s["outcomeText"] and not s["form"] and not s["queue"] and not s["turn"], s
    assert d2.find_element(By.ID, "seats").text == "Sold out"
    fits_phone(s)
    shot(d2, shots, "08-sold-out.png")


def test_direct_reservation_through_a_503_then_sold_out_and_an_unknown_event(api, browser, base_url, shots, tag):
    name = f"Matinee {tag}"
    ev = api.create_event(eventName=name, totalSeats=3, perUserLimit=2, maxPerRequest=2,
                          eventDate=stacklib.iso_in(days=0, minutes=45))
    d = browser()
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SHED_ONCE_JS})
    d.get(f"{base_url}/#/events/{ev['id']}")
    s = until(d, lambda s: s["h1"] == name and s["form"], "the event page")
    assert d.find_element(By.ID, "go").text == "Reserve"
    assert not d.find_elements(By.ID, "room-note")

    # no user id: the field says so and takes the focus
    d.find_element(By.ID, "go").click()
    s = until(d, lambda s: s["focus"] == "user", "the focus on the empty user id")
    assert d.find_element(By.ID, "form-error").text == "Enter your name or user id."
    assert d.find_element(By.ID, "user").get_attribute("aria-invalid") == "true"

    # a 503 with Retry-After: the envelope's message, a wait, a retry, one booking
    user = f"carol-{tag}"
    d.find_element(By.ID, "user").send_keys(user)
    Select(d.find_element(By.ID, "qty")).select_by_value("2")
    d.find_element(By.ID, "go").click()
    s = until(d, lambda s: "Busy right now (test)." in s["notice"] or "ok" in s["outcome"].split(),
              "the retry notice", timeout=10)
    assert "Busy right now (test). Trying again in 1 s" in s["notice"], s
    s = until(d, lambda s: "ok" in s["outcome"].split(), "the confirmation after the retry")
    assert s["notice"] == "", s
    mine = api.reservations_of(user)
    assert [(r["eventId"], r["quantity"]) for r in mine] == [(ev["id"], 2)], mine

    # the last seat goes to someone else while this page is open: 409 INSUFFICIENT_SEATS = sold out
    # The event read may be the micro-cache's (up to a second old, and a stale entry is
    # served while another request refreshes it: boxoffice-site.conf), so the page is
    # reloaded until it counts carol's two seats, a bounded number of times.
    for _ in range(20):
        d.refresh()
        s = until(d, lambda s: s["h1"] == name and s["form"], "the event page again")
        seats = d.find_element(By.ID, "seats").text
        if seats != "3 of 3 seats left":
            break
        time.sleep(0.5)
    assert "Only 1 of 3 seats left" in seats, seats
    other = f"dave-{tag}"
    user_box = d.find_element(By.ID, "user")
    user_box.clear()
    user_box.send_keys(f"erin-{tag}")
    r = api.reserve(ev["id"], other, 1)
    assert r.status_code == 201, r.text
    d.find_element(By.ID, "go").click()
    s = until(d, lambda s: "soldout" in s["outcome"].split(), "sold out after the 409")
    body = api.reserve(ev["id"], other, 1).json()
    assert body["error"]["code"] == "INSUFFICIENT_SEATS"
    assert body["error"]["message"] in s["outcomeText"], (body, s)
    assert s["focus"] == "outcome-h"
    fits_phone(s)
    shot(d, shots, "09-sold-out-on-reserve.png")

    # an unknown event: the envelope's message and a way back, not a blank page
    missing = 9_000_000_000_000_000_000
    envelope = requests.get(f"{base_url}/api/events/{missing}", timeout=20).json()
    d.get(f"{base_url}/#/events/{missing}")
    s = until(d, lambda s: s["h1"] == "Not found", "the error view")
    text = d.find_element(By.ID, "view").text
    assert envelope["error"]["message"] in text and envelope["error"]["code"] in text, text
    assert d.find_element(By.XPATH, "//button[normalize-space()='Try again']").is_displayed()
    shot(d, shots, "10-unknown-event.png")


# Records the Authorization header of every API call the page makes (window.__auth).
RECORD_AUTH_JS = """
(function () {
  const realFetch = window.fetch.bind(window);
  window.__auth = [];
  window.fetch = function (input, init) {
    const h = (init && init.headers) || {};
    window.__auth.push([(init && init.method) || 'GET', String(input), h.Authorization || null]);
    return realFetch(input, init);
  };
})();
"""


def test_a_bearer_token_from_the_address_under_auth_mode_jwt(api, browser, base_url, shots, tag, jwt_mode):
    name = f"Token Night {tag}"
    ev = api.create_event(room_rate=50, eventName=name, totalSeats=10, perUserLimit=2, maxPerRequest=2,
                          eventDate=stacklib.iso_in(days=0, minutes=50))
    user = f"grace-{tag}"
    token = jwt_mode(user)
    d = browser()
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_AUTH_JS})
    d.get(f"{base_url}/?token={token}#/events/{ev['id']}")
    s = until(d, lambda s: s["h1"] == name and s["form"], "the event page")
    assert "token=" not in d.current_url, d.current_url
    box = d.find_element(By.ID, "user")
    assert box.get_attribute("value") == user and box.get_attribute("readonly") is not None
    assert d.find_element(By.ID, "user-hint").text == "Set by your access token."
    d.find_element(By.ID, "go").click()
    s = until(d, lambda s: s["turn"] or s["outcome"], "the admission")
    assert s["turn"], s
    d.find_element(By.ID, "reserve").click()
    s = until(d, lambda s: "ok" in s["outcome"].split() or "error" in s["outcome"].split(), "the booking")
    assert "ok" in s["outcome"].split(), s
    calls = d.execute_script("return window.__auth")
    sent = {(m, u.split("?")[0]): a for m, u, a in calls}
    for call in (("POST", f"/api/events/{ev['id']}/queue"), ("POST", f"/api/events/{ev['id']}/queue/admission"),
                 ("POST", "/api/reservations")):
        assert sent.get(call) == f"Bearer {token}", (call, calls)
    assert all(a is None for m, u, a in calls if m == "GET"), calls   # the reads stay cacheable
    assert [r["quantity"] for r in api.reservations_of(user, token) if r["eventId"] == ev["id"]] == [1]

    # no token: the server's 401 message, and a way to try again
    d2 = browser()
    d2.get(f"{base_url}/#/events/{ev['id']}")
    until(d2, lambda s: s["h1"] == name and s["form"], "the event page without a token")
    d2.find_element(By.ID, "user").send_keys(f"heidi-{tag}")
    d2.find_element(By.ID, "go").click()
    s = until(d2, lambda s: "error" in s["outcome"].split(), "the refusal")
    r = requests.post(f"{base_url}/api/events/{ev['id']}/queue", json={"userId": "x"}, timeout=20)
    assert r.status_code == 401 and r.json()["error"]["message"] in s["outcomeText"], (r.text, s)
    assert "UNAUTHORIZED" in s["outcomeText"] and d2.find_element(By.ID, "retry").is_displayed()
    assert d2.find_element(By.ID, "access").get_attribute("open") is not None  # where the token goes
    fits_phone(state(d2))
    shot(d2, shots, "11-token-required.png", bottom_of="outcome")
