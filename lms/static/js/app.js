// Small progressive enhancements; every page works without them.
(function () {
  var toggle = document.querySelector('.nav-toggle');
  var nav = document.getElementById('site-nav');
  if (toggle && nav) {
    toggle.addEventListener('click', function () {
      var open = nav.classList.toggle('open');
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      if (!window.confirm(form.getAttribute('data-confirm'))) { ev.preventDefault(); }
    });
  });
  document.querySelectorAll('form[data-no-submit]').forEach(function (form) {
    form.addEventListener('submit', function (ev) { ev.preventDefault(); });
  });
  // The CSRF token for scripts that POST (video progress, autosave).
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.LMS = window.LMS || {};
  window.LMS.csrfToken = meta ? meta.getAttribute('content') : '';
  // Pages whose opening is a state change (a lesson: resume point, "launched") POST it once
  // loaded, with the CSRF token: the GET itself changes nothing.
  document.querySelectorAll('[data-post-on-load]').forEach(function (el) {
    fetch(el.getAttribute('data-post-on-load'), {method: 'POST', credentials: 'same-origin',
      headers: {'X-CSRFToken': window.LMS.csrfToken, 'Accept': 'application/json'}}).catch(function () {});
  });
})();
