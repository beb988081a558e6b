// The widget's stylesheet, fetched once per page and shared by every widget's shadow root
// (a constructed stylesheet: nothing is added to the host page's own styles).

let loading = null;

export function loadStyles(url) {
  if (!loading) {
    loading = fetch(url, { credentials: 'omit' })
      .then((r) => {
        if (!r.ok) throw new Error(`stylesheet: HTTP ${r.status}`);
        return r.text();
      })
      .then((text) => {
        let sheet = null;
        try {
          sheet = new CSSStyleSheet();
          sheet.replaceSync(text);
        } catch {
          sheet = null; // older browsers: a <style> element inside the shadow root instead
        }
        return { sheet, text };
      });
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

export function adopt(root, styles) {
  if (styles.sheet && 'adoptedStyleSheets' in root) {
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, styles.sheet];
  } else {
    const el = document.createElement('style');
    el.textContent = styles.text;
    root.prepend(el);
  }
}
