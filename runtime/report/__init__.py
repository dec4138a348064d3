"""`specc report`: a study's data (:mod:`.data`), its facts in words (:mod:`.facts`), its
charts (:mod:`.charts`), the HTML page (:mod:`.page`) and the whole report
(:mod:`.build`)."""
