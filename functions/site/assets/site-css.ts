/**
 * The site's one stylesheet, served as a file (the pages' CSP allows no inline style). Colours are chosen for
 * WCAG 2.2 AA contrast on white (4.5:1 for text, 3:1 for borders and focus rings), and nothing is laid out wider
 * than the screen: a 320 px phone reads every page without scrolling sideways.
 */
export const SITE_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1a1a1a;background:#fff;overflow-wrap:anywhere}
a{color:#0645ad}
a:visited{color:#5a2d91}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.skip{position:absolute;left:-9999px;top:0;background:#fff;padding:.5rem}
.skip:focus{left:.5rem}
header.site,footer.site{background:#0d2b4f;color:#fff;padding:.75rem 1rem}
header.site a,footer.site a{color:#fff}
.brand{font-weight:700;font-size:1.1rem;margin:0}
nav.site ul,.langs ul{list-style:none;margin:.25rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
nav.site a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.langs{margin-top:.25rem;font-size:.95rem}
main{max-width:44rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;line-height:1.2;margin:.5rem 0 1rem}
h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
.muted{color:#555}
.cards{list-style:none;padding:0;margin:0}
.card{border:1px solid #767676;border-left-width:8px;border-radius:4px;padding:.5rem .75rem;margin:0 0 1rem}
.sev-Extreme,.sev-Severe{border-left-color:#b3261e}
.sev-Moderate{border-left-color:#a04100}
.sev-Minor{border-left-color:#7a5c00}
.sev-Unknown{border-left-color:#555}
.badge{display:inline-block;font-size:.85rem;font-weight:700;border:1px solid currentColor;border-radius:3px;padding:0 .3rem;margin-right:.25rem}
.alert-meta{font-weight:700;margin:0;color:#333}
article.alert h1,article.alert h2{overflow-wrap:anywhere}
article.alert img{max-width:100%;height:auto}
.thread{list-style:none;padding:0;margin:0;border-left:3px solid #767676}
.thread>li{padding:0 0 .5rem 1rem}
.thread h3{font-size:1rem;margin:.75rem 0 .25rem}
form{margin:0}
fieldset{border:1px solid #767676;border-radius:4px;margin:0 0 1rem;padding:.5rem .75rem;min-width:0}
legend{font-weight:700;padding:0 .25rem}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
.choice{display:flex;align-items:flex-start;gap:.5rem;font-weight:400;margin:.35rem 0}
.choice input{width:1.5rem;height:1.5rem;flex:none;margin:0}
.choices{columns:2 9rem;column-gap:1rem}
input[type=text],input[type=tel],input[type=email],input[type=time],input:not([type]),select,textarea{display:block;width:100%;max-width:30rem;font:inherit;padding:.5rem;border:1px solid #555;border-radius:4px;background:#fff;color:#1a1a1a;min-height:2.75rem}
textarea{min-height:8rem}
.inline-fields{display:flex;flex-wrap:wrap;gap:0 1rem}
.inline-fields>div{flex:1 1 8rem}
.hint{color:#444;font-size:.95rem;margin:.25rem 0}
button,.button{display:inline-block;font:inherit;font-weight:700;padding:.6rem 1.1rem;min-height:2.75rem;border:2px solid #0b3d91;border-radius:4px;background:#0b3d91;color:#fff;cursor:pointer;text-decoration:none}
button.secondary{background:#fff;color:#0b3d91}
button.danger{background:#fff;color:#8c1d18;border-color:#8c1d18}
.error-summary{border:3px solid #b3261e;padding:.5rem 1rem;margin:0 0 1rem}
.error-summary h2{margin-top:.25rem}
.field-error{color:#b3261e;font-weight:700;margin:.25rem 0}
[aria-invalid=true]{border-color:#b3261e;border-width:2px}
.notice{border-left:6px solid #0b57d0;background:#eef3fd;padding:.5rem 1rem;margin:0 0 1rem}
.consent{border:1px dashed #555;padding:.5rem .75rem;font-style:italic}
.map{margin:0 0 1rem}
.map svg{display:block;width:100%;height:auto;max-height:24rem;border:1px solid #767676;background:#f4f8fb}
footer.site{margin-top:2rem;font-size:.95rem}
footer.site ul{list-style:none;padding:0;margin:.25rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
[hidden]{display:none!important}
`;
