/**
 * Word lists for synthetic people and places. Family names are always written with the
 * 'Test-' prefix and streets are 'Teststraat'-like, so demo data can never pass for real.
 */
export const FAMILY_STEMS: readonly string[] = [
  'Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser', 'Smit', 'Meijer', 'de Boer', 'Mulder', 'de Groot',
  'Bos', 'Vos', 'Peters', 'Hendriks', 'van Leeuwen', 'Dekker', 'Brouwer', 'de Wit', 'Dijkstra', 'Smits',
  'de Graaf', 'van der Meer', 'van der Linden', 'Kok', 'Jacobs', 'de Haan', 'Vermeulen', 'van den Heuvel', 'van der Veen', 'van den Broek',
];

export const FEMALE_GIVEN: readonly string[] = [
  'Anna', 'Emma', 'Sophie', 'Julia', 'Lotte', 'Sanne', 'Fleur', 'Eva', 'Lisa', 'Iris',
  'Maaike', 'Anouk', 'Femke', 'Marieke', 'Ingrid', 'Petra', 'Monique', 'Esther', 'Yvonne', 'Noor',
];

export const MALE_GIVEN: readonly string[] = [
  'Daan', 'Sem', 'Lucas', 'Milan', 'Levi', 'Bram', 'Thijs', 'Ruben', 'Jesse', 'Tim',
  'Jeroen', 'Bas', 'Sander', 'Pieter', 'Kees', 'Joost', 'Martijn', 'Wouter', 'Niels', 'Sven',
];

export const STREETS: readonly string[] = [
  'Teststraat', 'Proefweg', 'Voorbeeldlaan', 'Demoplein', 'Oefenkade', 'Steekproefsingel', 'Monsterhof', 'Fictiegracht',
];

export const CITIES: readonly string[] = [
  'Amsterdam', 'Rotterdam', 'Den Haag', 'Utrecht', 'Eindhoven', 'Groningen', 'Tilburg', 'Almere', 'Breda', 'Nijmegen',
  'Leiden', 'Delft', 'Rijswijk', 'Zwolle', 'Maastricht', 'Arnhem', 'Haarlem', 'Amersfoort',
];
